import type { DatabaseClient } from './client.js';

/** 'timescaledb' when telemetry is a hypertable (compression, retention, aggregates), else 'postgresql'. */
export type DatabaseMode = 'timescaledb' | 'postgresql';

export async function detectDatabaseMode(client: DatabaseClient): Promise<DatabaseMode> {
  const [row] = await client.sql<{ hypertable: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
       AND to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL
       AND EXISTS (SELECT 1 FROM _timescaledb_catalog.hypertable WHERE table_name = 'telemetry') AS hypertable`.catch(
    async () => [{ hypertable: false }],
  );
  return row?.hypertable ? 'timescaledb' : 'postgresql';
}

export async function serverVersion(client: DatabaseClient): Promise<string> {
  const [row] = await client.sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
  return row?.version ?? 'unknown';
}
