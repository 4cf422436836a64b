export * from './audit.definition.js';
