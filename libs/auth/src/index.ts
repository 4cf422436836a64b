export * from './api-key-format.js';
export * from './credentials.js';
export * from './session-token.js';
