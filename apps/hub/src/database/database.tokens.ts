/** Injection tokens for the database objects that are not classes. */
export const DATABASE_CLIENT = Symbol('DATABASE_CLIENT');
export const DATABASE_MODE = Symbol('DATABASE_MODE');

/** Rows at least `ageMs` old go to a writer of their own (see TelemetryLanes); undefined: no such rows. */
export const LATE_ROWS = Symbol('LATE_ROWS');
export interface LateRows {
  ageMs: number | undefined;
}
