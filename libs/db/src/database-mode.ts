import type { DatabaseClient } from './client.js';

/** 'timescaledb' when telemetry is a hypertable (compression, retention, aggregates), else 'postgresql'. */
export type DatabaseMode = 'timescaledb' | 'postgresql';

/**
 * What TimescaleDB offers this database:
 * - `hypertable`: telemetry is a hypertable (TimescaleDB mode);
 * - `convertible`: the extension is installed in the database, or available and preloaded on the server, but
 *   telemetry is a plain table (migrated before TimescaleDB was there): `npm run db:convert-timescale` converts it;
 * - `absent`: no usable extension.
 */
export type TimescaleState = 'hypertable' | 'convertible' | 'absent';

/** The command that converts a plain telemetry table (see libs/db/src/cli/convert-timescale.ts). */
export const CONVERT_TIMESCALE_COMMAND =
  'npm run db:convert-timescale (or: node dist/libs/db/src/cli/convert-timescale.js)';

/**
 * Looked up in the catalogs only, so plain PostgreSQL logs no error: a statement naming TimescaleDB's catalog
 * fails at parse time when the extension is absent, even in a branch that is never taken, so that one runs only
 * once the catalog is known to exist. pg_settings rather than current_setting(): it leaves out what the role
 * may not read instead of failing.
 */
export async function detectTimescale(client: DatabaseClient): Promise<TimescaleState> {
  const [found] = await client.sql<{ installed: boolean; catalog: boolean; preloadable: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
           to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL AS catalog,
           EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
             AND EXISTS (SELECT 1 FROM pg_settings WHERE name = 'shared_preload_libraries'
                         AND setting ~ '(^|[\\s,])timescaledb([\\s,]|$)') AS preloadable`;
  if (found?.installed && found.catalog) {
    const [hypertable] = await client.sql<{ exists: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable
                     WHERE schema_name = current_schema() AND table_name = 'telemetry') AS exists`;
    return hypertable?.exists ? 'hypertable' : 'convertible';
  }
  return found?.preloadable ? 'convertible' : 'absent';
}

export async function detectDatabaseMode(client: DatabaseClient): Promise<DatabaseMode> {
  return (await detectTimescale(client)) === 'hypertable' ? 'timescaledb' : 'postgresql';
}

export async function serverVersion(client: DatabaseClient): Promise<string> {
  const [row] = await client.sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
  return row?.version ?? 'unknown';
}
