import { randomUUID } from 'node:crypto';
import {
  applyRetentionPolicies,
  countMigrationFiles,
  createDatabaseClient,
  type DatabaseClient,
  detectDatabaseMode,
  runMigrations,
  TelemetryRepository,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TIERS = { rawDays: 30, minuteDays: 90, hourDays: 730 };

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
    await applyRetentionPolicies(client, await detectDatabaseMode(client), TIERS);
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

  it('has compression and a retention policy per tier, refresh windows bounded by the raw retention', async () => {
    const policies = async () => {
      const jobs = await client.sql<{ proc_name: string; hypertable_name: string; config: Record<string, unknown> }[]>`
        SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs
        WHERE hypertable_name LIKE 'telemetry%' ORDER BY hypertable_name, proc_name`;
      return Object.fromEntries(jobs.map((job) => [`${job.hypertable_name} ${job.proc_name}`, job.config]));
    };
    const before = await policies();
    expect(before['telemetry policy_compression']?.compress_after).toBe('7 days');
    expect(before['telemetry_1m policy_compression']?.compress_after).toBe('7 days');
    expect(before['telemetry_1h policy_compression']?.compress_after).toBe('30 days');
    expect(before['telemetry policy_retention']?.drop_after).toBe('30 days');
    expect(before['telemetry_1m policy_retention']?.drop_after).toBe('90 days');
    expect(before['telemetry_1h policy_retention']?.drop_after).toBe('730 days');
    expect(before['telemetry_1m policy_refresh_continuous_aggregate']).toMatchObject({
      start_offset: '30 days',
      end_offset: '00:01:00',
      buckets_per_batch: 1440,
    });
    expect(before['telemetry_1h policy_refresh_continuous_aggregate']).toMatchObject({
      start_offset: '30 days',
      end_offset: '01:00:00',
      buckets_per_batch: 168,
    });
    const ids = async () =>
      (
        await client.sql<{ job_id: number }[]>`
        SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name LIKE 'telemetry%'
          AND proc_name IN ('policy_compression', 'policy_refresh_continuous_aggregate') ORDER BY job_id`
      ).map((row) => row.job_id);
    const idsBefore = await ids();

    await applyRetentionPolicies(client, 'timescaledb', { rawDays: 7, minuteDays: 14, hourDays: 0 });
    const changed = await policies();
    expect(changed['telemetry policy_retention']?.drop_after).toBe('7 days');
    expect(changed['telemetry_1m policy_retention']?.drop_after).toBe('14 days');
    expect(changed['telemetry_1h policy_retention']).toBeUndefined();
    expect(changed['telemetry_1m policy_refresh_continuous_aggregate']?.start_offset).toBe('7 days');

    await applyRetentionPolicies(client, 'timescaledb', { rawDays: 0, minuteDays: 0, hourDays: 0 });
    const forever = await policies();
    expect(Object.keys(forever).filter((key) => key.endsWith('policy_retention'))).toEqual([]);
    expect(forever['telemetry_1h policy_refresh_continuous_aggregate']?.start_offset).toBeNull();

    await applyRetentionPolicies(client, 'timescaledb', TIERS);
    expect(await policies()).toEqual(before);
    // Changed in place: the refresh jobs keep their ids (and their run history).
    expect(idsBefore).toHaveLength(5);
    expect(await ids()).toEqual(idsBefore);
  });

  it('has real-time 1-minute and 1-hour continuous aggregates with exact sums and refresh policies', async () => {
    const views = await client.sql<{ view_name: string; materialized_only: boolean; compression_enabled: boolean }[]>`
      SELECT view_name, materialized_only, compression_enabled
      FROM timescaledb_information.continuous_aggregates ORDER BY view_name`;
    expect(views).toEqual([
      { view_name: 'telemetry_1h', materialized_only: false, compression_enabled: true },
      { view_name: 'telemetry_1m', materialized_only: false, compression_enabled: true },
    ]);
    const columns = await client.sql<{ column_name: string; data_type: string }[]>`
      SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'telemetry_1m'
      ORDER BY ordinal_position`;
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'bucket timestamp with time zone',
      'device_id uuid',
      'metric text',
      'sum numeric',
      'count bigint',
      'min double precision',
      'max double precision',
      'last double precision',
    ]);
  });

  it('indexes telemetry by (device_id, metric, time DESC) and by a BRIN on time, on the table and every chunk', async () => {
    const device = randomUUID();
    await new TelemetryRepository(client).insertBatch({
      times: [Date.now() - 3 * 86_400_000, Date.now()],
      deviceIds: [device, device],
      metrics: ['temp', 'temp'],
      values: [1, 2],
    });
    const indexes = await client.sql<{ table: string; definition: string }[]>`
      SELECT c.relname AS table,
        replace(regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''), '''', '') AS definition
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      WHERE c.oid = 'telemetry'::regclass
         OR c.oid IN (SELECT format('%I.%I', chunk_schema, chunk_name)::regclass
                      FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry')
      ORDER BY 1, 2`;
    const byTable = new Map<string, string[]>();
    for (const index of indexes) byTable.set(index.table, [...(byTable.get(index.table) ?? []), index.definition]);
    expect(byTable.size).toBeGreaterThanOrEqual(3);
    for (const [, definitions] of byTable) {
      expect(definitions).toEqual(['brin ("time") WITH (autosummarize=on)', 'btree (device_id, metric, "time" DESC)']);
    }
  });

  it('stores rows inserted through the hub repository in a chunk, and aggregates them', async () => {
    const device = randomUUID();
    // Both rows in one minute, whatever the clock says.
    const at = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000 + 10_000;
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
    const [aggregate] = await client.sql<{ sum: string; count: string; last: number }[]>`
      SELECT sum::text, count::text, last FROM telemetry_1m WHERE device_id = ${device} AND metric = 'temp'`;
    expect(aggregate).toEqual({ sum: '42', count: '2', last: 22 });
  });
});
