export * from './errors.js';
export * from './identity.js';
export * from './services.js';
export * from './subjects.js';
export * from './system.js';
export * from './validation.js';
