export * from './infrastructure.js';
export * from './logging.js';
