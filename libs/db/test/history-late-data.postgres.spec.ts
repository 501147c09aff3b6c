import { randomUUID } from 'node:crypto';
import {
  BUCKET_ORIGIN_MS,
  type BucketedHistoryQuery,
  ceilToBucket,
  deleteExpiredTelemetry,
  HISTORY_AGGS,
  TelemetryHistoryRepository,
} from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainRawFigures } from './support/plain-history.js';
import {
  DAY,
  expectSameFigures,
  flatten,
  HOUR,
  MINUTE,
  post,
  postBatch,
  type Sample,
  sum,
} from './support/timescale-history.js';

const TIERS = { rawDays: 30, minuteDays: 90, hourDays: 730 };
const BUCKETS = [30_000, MINUTE, 10 * MINUTE, HOUR, DAY];

// Issue 12, "Done when", the plain-PostgreSQL half of history-late-data.timescale.spec.ts: the same arrivals (the
// issue's 53 rows, rows out of order and days late), every bucket size and every agg against SQL over the raw table,
// JSON and the CSV cursor alike; and the one tier plain PostgreSQL has, cut at its retention.
describe('history with late data on plain PostgreSQL', () => {
  let database: TestDatabase;
  let history: TelemetryHistoryRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    history = new TelemetryHistoryRepository(database.client, 'postgresql', TIERS);
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** The CSV path: the same query through the cursor, one device at a time (its rows do not name the device). */
  async function cursorFigures(query: BucketedHistoryQuery): Promise<Map<string, number>> {
    const figures = new Map<string, number>();
    for (const deviceId of query.deviceIds) {
      for await (const rows of history.bucketedCursor({ ...query, deviceIds: [deviceId] }, 7)) {
        for (const row of rows) figures.set(`${deviceId}|${row.metric}|${row.time}`, row.value);
      }
    }
    return figures;
  }

  async function expectHistoryEqualsRaw(deviceIds: string[], fromMs: number, toMs: number, label: string) {
    for (const bucketMs of BUCKETS) {
      for (const agg of HISTORY_AGGS) {
        const query = { deviceIds, metrics: '*' as const, fromMs, toMs, bucketMs, agg };
        const answer = await history.bucketed(query);
        const what = `${label}: ${bucketMs / 1000}s ${agg}`;
        expect(answer.tier, what).toBe('raw');
        const expected = await plainRawFigures(database.client, query);
        expect(expected.size, what).toBeGreaterThan(0);
        expectSameFigures(flatten(answer.series), expected, what);
        // The same figure for every series and bucket; the two reads may list devices of equal rows in either order.
        const byKey = (figures: Map<string, number>) => [...figures].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(byKey(await cursorFigures(query)), `${what} (cursor)`).toEqual(byKey(flatten(answer.series)));
      }
    }
  }

  it('counts all 53 rows of the issue: one point, then late points over 4 days', async () => {
    const device = randomUUID();
    const now = Date.now();
    const point = (time: number, value: number): Sample => ({ deviceId: device, metric: 'temp', time, value });
    await post(database.client, [point(now - 1000, 20)]);
    const late = Array.from({ length: 49 }, (_, i) => point(now - 24 * HOUR + i * 30 * MINUTE - 5000, 10 + (i % 7)));
    late.push(point(now - 3 * HOUR, 3), point(now - 26 * HOUR, 26), point(now - 4 * DAY, 4));
    await post(database.client, late);

    const range = { fromMs: now - 5 * DAY, toMs: now + 1 };
    for (const bucketMs of BUCKETS) {
      const answer = await history.bucketed({
        deviceIds: [device],
        metrics: ['temp'],
        ...range,
        bucketMs,
        agg: 'count',
      });
      expect(sum(flatten(answer.series)), `${bucketMs / 1000}s`).toBe(53);
    }
    await expectHistoryEqualsRaw([device], range.fromMs, range.toMs, 'the issue');
  });

  it('stays equal to the raw rows for rows written newest first and days late', async () => {
    const devices = [randomUUID(), randomUUID()];
    const now = Date.now();
    const samples: Sample[] = [];
    for (let t = now - 10 * DAY; t < now; t += 4 * HOUR) {
      for (const [index, deviceId] of devices.entries()) {
        samples.push({
          deviceId,
          metric: 'temp',
          time: t + index * 7000,
          value: Math.round(Math.sin(t / HOUR) * 1e4) / 100,
        });
        samples.push({ deviceId, metric: 'hum', time: t + 90_000, value: (t / MINUTE) % 97 });
      }
    }
    samples.reverse();
    for (let i = 0; i < samples.length; i += 40) await postBatch(database.client, samples.slice(i, i + 40));
    await post(database.client, [
      { deviceId: devices[0]!, metric: 'temp', time: now - 9 * DAY + 123_456, value: 1e6 },
      { deviceId: devices[1]!, metric: 'hum', time: now - 9 * DAY - 5 * HOUR, value: -1e6 },
      { deviceId: devices[0]!, metric: 'temp', time: now - DAY + 17 * MINUTE, value: 0.1 },
      { deviceId: devices[0]!, metric: 'temp', time: now - DAY + 17 * MINUTE + 1, value: 0.2 },
      { deviceId: devices[1]!, metric: 'pressure', time: now - 2 * DAY, value: 1013.25 },
    ]);
    await expectHistoryEqualsRaw(devices, now - 11 * DAY, now + 1, 'out of order and late');
  });

  it('answers every bucket size from the raw tier from its retention on, before and after the delete', async () => {
    const device = randomUUID();
    const now = Date.now();
    const retention = { rawDays: 2, minuteDays: 12, hourDays: 0 };
    const kept = new TelemetryHistoryRepository(database.client, 'postgresql', retention);
    const samples = [25 * DAY, 5 * DAY, DAY, 2 * HOUR].flatMap((age) =>
      [0, 20_000, 95_000].map((offset, i) => ({
        deviceId: device,
        metric: 'temp',
        time: now - age + offset,
        value: i,
      })),
    );
    await postBatch(database.client, samples);
    const range = { deviceIds: [device], metrics: '*' as const, fromMs: now - 30 * DAY, toMs: now, nowMs: now };

    const expectCoverage = async (label: string) => {
      for (const bucketMs of BUCKETS) {
        for (const agg of HISTORY_AGGS) {
          const query = { ...range, bucketMs, agg };
          const answer = await kept.bucketed(query);
          const what = `${label}: ${bucketMs / 1000}s ${agg}`;
          expect(answer.tier, what).toBe('raw');
          expect(answer.coveredFromMs, what).toBe(ceilToBucket(now - 2 * DAY, bucketMs, BUCKET_ORIGIN_MS));
          const expected = await plainRawFigures(database.client, query, answer.coveredFromMs);
          expect(expected.size, what).toBeGreaterThan(0);
          expectSameFigures(flatten(answer.series), expected, what);
        }
      }
    };
    // The rows of 25 and 5 days ago are still stored, but beyond the retention: no answer includes them.
    await expectCoverage('before the delete');
    expect(await deleteExpiredTelemetry(database.client, retention.rawDays)).toBeGreaterThanOrEqual(6);
    await expectCoverage('after the delete');
  });
});
