import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyRetentionPolicies,
  createDatabaseClient,
  type DatabaseClient,
  findMigrationsFolder,
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

const TIERS = { rawDays: 30, minuteDays: 90, hourDays: 730 };

// A TimescaleDB database of the first version (migrations up to 0004: default time index, aggregates with an avg
// column and two-hour and three-day refresh windows), with data in chunks, upgraded by migration 0006.
describe('upgrading a TimescaleDB database to the tiered objects', () => {
  let folder: string;
  let server: TimescalePglite;
  let client: DatabaseClient;
  const device = randomUUID();
  const now = Date.now();
  const samples: Sample[] = Array.from({ length: 90 }, (_, i) => ({
    deviceId: device,
    metric: 'temp',
    time: now - 4 * DAY + i * 61 * 60_000,
    value: i % 17,
  }));

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'telehub-migrations-'));
    await cp(findMigrationsFolder(), folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((entry) => entry.tag < '0005');
    await writeFile(journalPath, JSON.stringify(journal));
    server = await startTimescalePglite();
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    await runMigrations(client, folder);
    await postBatch(client, samples);
    await runPolicyJobs(client, ['policy_refresh_continuous_aggregate']);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('replaces the default time index and the aggregates, and answers with every row after the jobs', async () => {
    const indexes = async () =>
      (
        await client.sql<{ name: string }[]>`
          SELECT DISTINCT regexp_replace(indexname, '^_hyper_\\d+_\\d+_chunk_', '') AS name FROM pg_indexes
          WHERE tablename = 'telemetry' OR tablename IN (
            SELECT chunk_name FROM timescaledb_information.chunks WHERE hypertable_name = 'telemetry')
          ORDER BY 1`
      ).map((row) => row.name);
    expect(await indexes()).toContain('telemetry_time_idx');

    expect((await runMigrations(client)).applied).toBeGreaterThanOrEqual(1);
    expect(await indexes()).toEqual(['telemetry_device_metric_time_idx', 'telemetry_time_brin_idx']);
    await applyRetentionPolicies(client, 'timescaledb', TIERS);
    await runPolicyJobs(client);
    const history = new TelemetryHistoryRepository(client, 'timescaledb', TIERS);
    for (const bucketMs of [60_000, HOUR, DAY]) {
      for (const agg of HISTORY_AGGS) {
        const query = { deviceIds: [device], metrics: '*' as const, fromMs: now - 5 * DAY, toMs: now, bucketMs, agg };
        const answer = await history.bucketed(query);
        expect(answer.tier).not.toBe('raw');
        expectSameFigures(flatten(answer.series), await rawFigures(client, query), `${bucketMs / 1000}s ${agg}`);
      }
    }
    const [materialized] = await client.sql<{ count: string }[]>`
      SELECT sum(count)::text AS count FROM telemetry_1h WHERE device_id = ${device}`;
    expect(materialized?.count).toBe(String(samples.length));
  }, 120_000);
});
