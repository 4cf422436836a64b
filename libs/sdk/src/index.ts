export * from './canonical-request.js';
export * from './member-assertion.js';
export * from './session-token-client.js';
export * from './verify-request.js';
