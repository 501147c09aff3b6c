/** Injection tokens for the database objects that are not classes. */
export const DATABASE_CLIENT = Symbol('DATABASE_CLIENT');
export const DATABASE_MODE = Symbol('DATABASE_MODE');
/** The TelemetryRepository on the ingest's own connections (HubDatabase.ingest), for the telemetry writers only. */
export const INGEST_TELEMETRY = Symbol('INGEST_TELEMETRY');

/** Rows at least `ageMs` old go to a writer of their own (see TelemetryLanes); undefined: no such rows. */
export const LATE_ROWS = Symbol('LATE_ROWS');
export interface LateRows {
  ageMs: number | undefined;
}
