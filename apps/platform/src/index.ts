export * from './banner.js';
export * from './env.schema.js';
export * from './platform.js';
export * from './services.js';
