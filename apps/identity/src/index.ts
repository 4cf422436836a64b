export * from './identity.definition.js';
export * from './env.schema.js';
