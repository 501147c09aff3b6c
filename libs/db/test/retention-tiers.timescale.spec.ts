import { randomUUID } from 'node:crypto';
import {
  applyRetentionPolicies,
  BUCKET_ORIGIN_MS,
  ceilToBucket,
  createDatabaseClient,
  type DatabaseClient,
  HISTORY_AGGS,
  runMigrations,
  TelemetryHistoryRepository,
  wholeBucketRange,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY,
  expectSameFigures,
  flatten,
  HOUR,
  MINUTE,
  postBatch,
  rawFigures,
  runPolicyJobs,
  type Sample,
} from './support/timescale-history.js';

const TIERS = { rawDays: 2, minuteDays: 12, hourDays: 0 };
/** The bucket sizes each aggregate tier answers: its own, and a multiple of it. */
const TIER_BUCKETS = { '1m': [MINUTE, 10 * MINUTE], '1h': [HOUR, DAY] };

// Issue 12, item 2: each tier keeps its own retention, the real retention and refresh jobs run (CALL run_job), and
// a history answer says which tier answered and from when it covers the range.
describe('retention tiers on TimescaleDB', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;
  let history: TelemetryHistoryRepository;
  const device = randomUUID();
  const now = Date.now();
  const range = { deviceIds: [device], metrics: '*' as const, fromMs: now - 30 * DAY, toMs: now, nowMs: now };
  /** Figures of the 1-minute and 1-hour buckets while every raw row was still there. */
  const before = new Map<string, Map<string, number>>();
  const ages = [25 * DAY, 5 * DAY, DAY, 2 * HOUR];

  beforeAll(async () => {
    server = await startTimescalePglite();
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    await runMigrations(client);
    // Everything kept while the data arrives and is materialized, as it would have been over the weeks.
    await applyRetentionPolicies(client, 'timescaledb', { rawDays: 0, minuteDays: 0, hourDays: 0 });
    const samples: Sample[] = ages.flatMap((age) =>
      [0, 20_000, 95_000].map((offset, i) => ({
        deviceId: device,
        metric: 'temp',
        time: now - age + offset,
        value: age / HOUR + i,
      })),
    );
    await postBatch(client, samples);
    await runPolicyJobs(client, ['policy_refresh_continuous_aggregate']);
    for (const bucketMs of [...TIER_BUCKETS['1m'], ...TIER_BUCKETS['1h']]) {
      for (const agg of HISTORY_AGGS)
        before.set(`${bucketMs} ${agg}`, await rawFigures(client, { ...range, bucketMs, agg }));
    }

    await applyRetentionPolicies(client, 'timescaledb', TIERS);
    history = new TelemetryHistoryRepository(client, 'timescaledb', TIERS);
    await runPolicyJobs(client);
    // A row older than the raw retention arrives afterwards: it must not overwrite what the aggregates keep.
    await postBatch(client, [{ deviceId: device, metric: 'temp', time: now - 5 * DAY + 30_000, value: 1e6 }]);
    await runPolicyJobs(client);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('drops each tier at its own retention and keeps the aggregates beyond the raw rows', async () => {
    const [counts] = await client.sql<{ raw: number; m: number; h: number }[]>`
      SELECT
        (SELECT count(*)::int FROM telemetry WHERE device_id = ${device} AND time < now() - interval '3 days') AS raw,
        (SELECT count(*)::int FROM telemetry_1m WHERE device_id = ${device} AND bucket < now() - interval '12 days') AS m,
        (SELECT count(*)::int FROM telemetry_1h WHERE device_id = ${device} AND bucket < now() - interval '12 days') AS h`;
    // Raw: nothing older than its retention (the late row's new chunk went at the next run); 1 minute: nothing
    // older than 12 days; 1 hour: the rows of 25 days ago.
    expect(counts).toMatchObject({ raw: 0, m: 0 });
    expect(counts!.h).toBeGreaterThanOrEqual(1);
  });

  it('answers whole hours from the 1-hour tier over its whole retention, with the figures of the raw rows', async () => {
    for (const bucketMs of TIER_BUCKETS['1h']) {
      for (const agg of HISTORY_AGGS) {
        const answer = await history.bucketed({ ...range, bucketMs, agg });
        const what = `${bucketMs / 1000}s ${agg}`;
        expect(answer.tier, what).toBe('1h');
        expect(answer.coveredFromMs, what).toBe(wholeBucketRange(range.fromMs, range.toMs, bucketMs).fromMs);
        expectSameFigures(flatten(answer.series), before.get(`${bucketMs} ${agg}`)!, what);
      }
    }
  });

  it('answers whole minutes from the 1-minute tier from its retention horizon on', async () => {
    for (const bucketMs of TIER_BUCKETS['1m']) {
      for (const agg of HISTORY_AGGS) {
        const answer = await history.bucketed({ ...range, bucketMs, agg });
        const what = `${bucketMs / 1000}s ${agg}`;
        expect(answer.tier, what).toBe('1m');
        expect(answer.coveredFromMs, what).toBe(ceilToBucket(now - 12 * DAY, bucketMs, BUCKET_ORIGIN_MS));
        const expected = new Map(
          [...before.get(`${bucketMs} ${agg}`)!].filter(([key]) => Number(key.split('|')[2]) >= answer.coveredFromMs),
        );
        expect(expected.size, what).toBeGreaterThan(0);
        expectSameFigures(flatten(answer.series), expected, what);
      }
    }
  });

  it('answers other bucket sizes and raw rows from the raw tier, from the raw retention on', async () => {
    for (const agg of HISTORY_AGGS) {
      const answer = await history.bucketed({ ...range, bucketMs: 30_000, agg });
      expect(answer.tier, agg).toBe('raw');
      expect(answer.coveredFromMs, agg).toBe(ceilToBucket(now - 2 * DAY, 30_000, BUCKET_ORIGIN_MS));
      const expected = await rawFigures(client, { ...range, bucketMs: 30_000, agg }, answer.coveredFromMs);
      if (agg === 'count') expect([...expected.values()].reduce((a, b) => a + b)).toBe(6);
      expectSameFigures(flatten(answer.series), expected, `raw 30s ${agg}`);
    }
    expect(history.rawCoverage(range.fromMs, now)).toEqual({ tier: 'raw', coveredFromMs: now - 2 * DAY });
  });
});
