import { randomUUID } from 'node:crypto';
import {
  applyRetentionPolicy,
  countMigrationFiles,
  createDatabaseClient,
  type DatabaseClient,
  detectDatabaseMode,
  runMigrations,
  TelemetryRepository,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Real TimescaleDB 2.23 (PGlite's WASM build), reached over the wire protocol like a server.
describe('migrations on TimescaleDB', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;

  beforeAll(async () => {
    server = await startTimescalePglite();
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    const total = countMigrationFiles();
    expect(await runMigrations(client)).toEqual({ applied: total, total });
    expect(await runMigrations(client)).toEqual({ applied: 0, total });
    await applyRetentionPolicy(client, await detectDatabaseMode(client), 30);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('detects TimescaleDB mode', async () => {
    expect(await detectDatabaseMode(client)).toBe('timescaledb');
  });

  it('makes telemetry a hypertable on time with compression segmented by device and ordered by time', async () => {
    const [hypertable] = await client.sql`
      SELECT hypertable_name, compression_enabled, primary_dimension
      FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry'`;
    expect(hypertable).toMatchObject({ compression_enabled: true, primary_dimension: 'time' });
    const settings = await client.sql<
      {
        attname: string;
        segmentby_column_index: number | null;
        orderby_column_index: number | null;
        orderby_asc: boolean | null;
      }[]
    >`
      SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc
      FROM timescaledb_information.compression_settings WHERE hypertable_name = 'telemetry'`;
    const byColumn = Object.fromEntries(settings.map((s) => [s.attname, s]));
    expect(byColumn.device_id?.segmentby_column_index).toBe(1);
    expect(byColumn.time?.orderby_column_index).not.toBeNull();
    expect(byColumn.time?.orderby_asc).toBe(false);
  });

  it('has the compression and retention policies, the retention from the setting', async () => {
    const jobs = await client.sql<{ proc_name: string; hypertable_name: string; config: Record<string, string> }[]>`
      SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs WHERE hypertable_name = 'telemetry'`;
    const byProc = Object.fromEntries(jobs.map((job) => [job.proc_name, job.config]));
    expect(byProc.policy_compression?.compress_after).toBe('7 days');
    expect(byProc.policy_retention?.drop_after).toBe('30 days');

    await applyRetentionPolicy(client, 'timescaledb', 7);
    const [retention] = await client.sql<{ config: Record<string, string> }[]>`
      SELECT config FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'`;
    expect(retention?.config.drop_after).toBe('7 days');
    await applyRetentionPolicy(client, 'timescaledb', 0);
    const remaining = await client.sql`SELECT 1 FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'`;
    expect(remaining).toHaveLength(0);
    await applyRetentionPolicy(client, 'timescaledb', 30);
  });

  it('has real-time 1-minute and 1-hour continuous aggregates with refresh policies', async () => {
    const views = await client.sql<{ view_name: string; materialized_only: boolean }[]>`
      SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY view_name`;
    expect(views).toEqual([
      { view_name: 'telemetry_1h', materialized_only: false },
      { view_name: 'telemetry_1m', materialized_only: false },
    ]);
    const refresh = await client.sql<{ hypertable_name: string }[]>`
      SELECT hypertable_name FROM timescaledb_information.jobs
      WHERE proc_name = 'policy_refresh_continuous_aggregate' ORDER BY hypertable_name`;
    expect(refresh.map((job) => job.hypertable_name)).toEqual(['telemetry_1h', 'telemetry_1m']);
    const columns = await client.sql<{ column_name: string }[]>`
      SELECT column_name FROM information_schema.columns WHERE table_name = 'telemetry_1m' ORDER BY ordinal_position`;
    expect(columns.map((c) => c.column_name)).toEqual([
      'bucket',
      'device_id',
      'metric',
      'avg',
      'min',
      'max',
      'count',
      'last',
    ]);
  });

  it('stores rows inserted through the hub repository in a chunk, and aggregates them', async () => {
    const device = randomUUID();
    const at = Date.now() - 5 * 60_000;
    const written = await new TelemetryRepository(client).insertBatch({
      times: [at, at, at + 1000],
      deviceIds: [device, device, device],
      metrics: ['temp', 'hum', 'temp'],
      values: [20, 40, 22],
    });
    expect(written).toBe(3);
    const rows = await client.sql<{ chunk: string }[]>`
      SELECT tableoid::regclass::text AS chunk FROM telemetry WHERE device_id = ${device}`;
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.chunk).toMatch(/^_timescaledb_internal\._hyper_\d+_\d+_chunk$/);
    const [aggregate] = await client.sql<{ avg: number; count: number; last: number }[]>`
      SELECT avg, count, last FROM telemetry_1m WHERE device_id = ${device} AND metric = 'temp'`;
    expect(aggregate).toEqual({ avg: 21, count: 2, last: 22 });
  });
});
