/**
 * What a failed statement means for the caller. PostgreSQL reports a SQLSTATE (Appendix A of its manual);
 * postgres.js passes it as `code` on a PostgresError.
 * - A **data error** (class 22, "Data Exception", e.g. 22P05 untranslatable character, 22008 datetime out of
 *   range) or an **integrity violation** (class 23, e.g. a CHECK constraint an operator added) is about the rows
 *   sent: sending them again fails again. The message carrying them is refused; it is never retried.
 * - Anything else (connection refused or lost, server shutting down, too many connections, a lock timeout) may
 *   pass: those are retried while the database is unavailable.
 */
export function isDataError(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState !== undefined && (sqlState.startsWith('22') || sqlState.startsWith('23'));
}

/** The SQLSTATE of a PostgreSQL error, undefined for anything else (network errors, our own). */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if (error instanceof DataEncodingError) return error.code;
  const { name, code } = error as { name?: unknown; code?: unknown };
  // postgres.js uses `code` for its own connection errors too (CONNECTION_CLOSED, …): only a PostgresError's
  // five-character code is a SQLSTATE.
  return name === 'PostgresError' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A short, safe description of a database refusal, for the device: the server's message, without the values. */
export function describeDataError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return `the database refused the data (SQLSTATE ${code}): ${String(message ?? '').slice(0, 200)}`;
}

/**
 * Rows that cannot even be put into the wire format of a COPY (e.g. a device id that is not a UUID in the binary
 * format): refused with the SQLSTATE PostgreSQL itself gives such input, so callers treat it as any data error.
 */
export class DataEncodingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DataEncodingError';
  }
}
