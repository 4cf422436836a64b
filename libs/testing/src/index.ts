export * from './infrastructure.js';
export * from './logging.js';
export * from './processes.js';
export * from './streams.js';
