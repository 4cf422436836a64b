export * from './registry.definition.js';
