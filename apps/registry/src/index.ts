export * from './registry.definition.js';
export * from './env.schema.js';
export * from './secrets/secret-keys.js';
