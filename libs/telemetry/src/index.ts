export * from './attributes.js';
export * from './logger.js';
export * from './tracing.js';
