import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyRetentionPolicies,
  convertToTimescale,
  createDatabaseClient,
  type DatabaseClient,
  detectTimescale,
  HISTORY_AGGS,
  runMigrations,
  TelemetryHistoryRepository,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY,
  expectSameFigures,
  flatten,
  HOUR,
  postBatch,
  rawFigures,
  runPolicyJobs,
  type Sample,
} from './support/timescale-history.js';

// Issue 12, item 6: a database migrated on plain PostgreSQL, then opened once TimescaleDB is installed (PGlite on
// the same data directory, first without the extension, then with it), converted with its rows.
describe('converting a plain database to TimescaleDB', () => {
  let dataDir: string;
  let server: TimescalePglite | undefined;
  let client: DatabaseClient | undefined;
  const device = randomUUID();
  const now = Date.now();
  const samples: Sample[] = Array.from({ length: 120 }, (_, i) => ({
    deviceId: device,
    metric: i % 2 === 0 ? 'temp' : 'hum',
    time: now - 3 * DAY + i * 37 * 60_000,
    value: (i * 7) % 23,
  }));

  async function open(timescale: boolean): Promise<DatabaseClient> {
    await client?.close();
    await server?.stop();
    server = await startTimescalePglite({ dataDir, timescale });
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    return client;
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-convert-'));
    const plain = await open(false);
    await runMigrations(plain);
    expect(await detectTimescale(plain)).toBe('absent');
    await postBatch(plain, samples);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stays plain when the extension arrives, is named convertible, and converts with its rows', async () => {
    const db = await open(true);
    expect(await runMigrations(db)).toMatchObject({ applied: 0 });
    await db.sql`CREATE EXTENSION timescaledb`;
    expect(await detectTimescale(db)).toBe('convertible');

    const result = await convertToTimescale(db);
    expect(result).toMatchObject({ before: 'convertible', rows: samples.length });
    expect(await detectTimescale(db)).toBe('hypertable');
    const [chunks] = await db.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry'`;
    expect(chunks!.count).toBeGreaterThanOrEqual(3);
    const objects = await db.sql<{ name: string }[]>`
      SELECT view_name AS name FROM timescaledb_information.continuous_aggregates
      UNION ALL SELECT proc_name || ' ' || hypertable_name FROM timescaledb_information.jobs
        WHERE hypertable_name LIKE 'telemetry%'
      ORDER BY 1`;
    expect(objects.map((row) => row.name)).toEqual([
      'policy_compression telemetry',
      'policy_compression telemetry_1h',
      'policy_compression telemetry_1m',
      'policy_refresh_continuous_aggregate telemetry_1h',
      'policy_refresh_continuous_aggregate telemetry_1m',
      'telemetry_1h',
      'telemetry_1m',
    ]);
    // Converting again only checks the objects.
    expect(await convertToTimescale(db)).toMatchObject({ before: 'hypertable', rows: samples.length });
  }, 60_000);

  it('answers history from the new aggregates with the figures of the raw rows', async () => {
    const db = client!;
    const tiers = { rawDays: 30, minuteDays: 90, hourDays: 730 };
    await applyRetentionPolicies(db, 'timescaledb', tiers);
    await runPolicyJobs(db);
    const history = new TelemetryHistoryRepository(db, 'timescaledb', tiers);
    for (const bucketMs of [60_000, HOUR, DAY]) {
      for (const agg of HISTORY_AGGS) {
        const query = { deviceIds: [device], metrics: '*' as const, fromMs: now - 4 * DAY, toMs: now, bucketMs, agg };
        const answer = await history.bucketed(query);
        expect(answer.tier).not.toBe('raw');
        expectSameFigures(flatten(answer.series), await rawFigures(db, query), `${bucketMs / 1000}s ${agg}`);
      }
    }
  }, 60_000);
});
