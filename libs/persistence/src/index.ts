export * from './data-source.js';
export * from './baseline.js';
