export * from './env.schema.js';
export * from './gateway.js';
export * from './status/status.controller.js';
export * from './http/openapi.js';
