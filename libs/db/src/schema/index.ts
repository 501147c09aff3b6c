export * from './admin-tokens.table.js';
export * from './commands.table.js';
export * from './device-events.table.js';
export * from './device-latest.table.js';
export * from './device-tokens.table.js';
export * from './devices.table.js';
export * from './mqtt-sessions.table.js';
export * from './telemetry.table.js';
