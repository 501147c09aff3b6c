export * from './test-database.js';
export * from './timescale-pglite.server.js';
