export * from './admin-protocol.js';
export * from './backoff.js';
export * from './command.schemas.js';
export * from './device.schemas.js';
export * from './problem.js';
export * from './telemetry.schemas.js';
export * from './token.schemas.js';
