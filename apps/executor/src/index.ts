export * from './executor.definition.js';
