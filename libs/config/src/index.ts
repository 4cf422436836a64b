export * from './env.js';
export * from './fragments.js';
export * from './required.js';
