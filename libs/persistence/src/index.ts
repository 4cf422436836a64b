export * from './data-source.js';
export * from './baseline.js';
export * from './statement-batcher.js';
