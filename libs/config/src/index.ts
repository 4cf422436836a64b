export * from './env.js';
export * from './fragments.js';
