import { randomUUID } from 'node:crypto';
import {
  bucketStart,
  createDatabaseClient,
  type DatabaseClient,
  detectDatabaseMode,
  HISTORY_AGGS,
  type HistoryAgg,
  type HistorySeries,
  runMigrations,
  TelemetryHistoryRepository,
  TelemetryRepository,
  wholeBucketRange,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SAMPLE_EVERY_MS = 7_000;

interface Sample {
  deviceId: string;
  metric: string;
  time: number;
  value: number;
}

/** What the figures must be, computed here from the inserted samples: whole buckets over [from, to). */
function reference(samples: Sample[], range: { fromMs: number; toMs: number }, bucketMs: number, agg: HistoryAgg) {
  const whole = wholeBucketRange(range.fromMs, range.toMs, bucketMs);
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    if (sample.time < whole.fromMs || sample.time >= whole.toMs) continue;
    const key = `${sample.deviceId}|${sample.metric}|${bucketStart(sample.time, bucketMs)}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const figures = new Map<string, number>();
  for (const [key, group] of groups) {
    const values = group.map((sample) => sample.value);
    const newest = group.reduce((a, b) => (b.time > a.time ? b : a));
    figures.set(
      key,
      agg === 'avg'
        ? values.reduce((a, b) => a + b, 0) / values.length
        : agg === 'min'
          ? Math.min(...values)
          : agg === 'max'
            ? Math.max(...values)
            : agg === 'count'
              ? values.length
              : newest.value,
    );
  }
  return figures;
}

function flatten(series: HistorySeries[]): Map<string, number> {
  const figures = new Map<string, number>();
  for (const item of series) {
    item.times.forEach((time, index) => {
      figures.set(`${item.deviceId}|${item.metric}|${time}`, item.values[index]!);
    });
  }
  return figures;
}

function expectSameFigures(actual: Map<string, number>, expected: Map<string, number>, label: string): void {
  expect([...actual.keys()].sort(), label).toEqual([...expected.keys()].sort());
  for (const [key, value] of expected) expect(actual.get(key), `${label} ${key}`).toBeCloseTo(value, 9);
}

// Real TimescaleDB 2.23 (PGlite's WASM build) over the wire protocol: time_bucket, the continuous aggregates and
// real-time aggregation as the hub meets them in production. No background workers run here, so the aggregates
// hold exactly what the test refreshes.
describe('telemetry history on TimescaleDB', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;
  let history: TelemetryHistoryRepository;
  const devices = [randomUUID(), randomUUID()];
  const samples: Sample[] = [];
  // Three whole hours, six hours ago: the first two are materialized, the third is left to real-time aggregation.
  const base = bucketStart(Date.now(), HOUR) - 6 * HOUR;
  const materializedUntil = base + 2 * HOUR;

  async function insert(rows: Sample[]): Promise<void> {
    await new TelemetryRepository(client).insertBatch({
      times: rows.map((row) => row.time),
      deviceIds: rows.map((row) => row.deviceId),
      metrics: rows.map((row) => row.metric),
      values: rows.map((row) => row.value),
    });
    samples.push(...rows);
  }

  async function refresh(view: string, fromMs: number, toMs: number): Promise<void> {
    await client.sql`CALL refresh_continuous_aggregate(${view}::regclass,
      to_timestamp(${fromMs}::float8 / 1000), to_timestamp(${toMs}::float8 / 1000))`;
  }

  beforeAll(async () => {
    server = await startTimescalePglite();
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    await runMigrations(client);
    const mode = await detectDatabaseMode(client);
    expect(mode).toBe('timescaledb');
    history = new TelemetryHistoryRepository(client, mode);
    const rows: Sample[] = [];
    for (let i = 0; base + i * SAMPLE_EVERY_MS < base + 3 * HOUR; i++) {
      const time = base + i * SAMPLE_EVERY_MS;
      rows.push(
        { deviceId: devices[0]!, metric: 'temp', time, value: Math.round(2000 + 500 * Math.sin(i / 10)) / 100 },
        { deviceId: devices[0]!, metric: 'hum', time, value: (i * 37) % 101 },
        { deviceId: devices[1]!, metric: 'temp', time: time + 3_000, value: (i % 13) - 6.5 },
      );
    }
    await insert(rows);
    await refresh('telemetry_1m', base, materializedUntil);
    await refresh('telemetry_1h', base, materializedUntil);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('reads whole minutes from telemetry_1m, whole hours from telemetry_1h, other sizes from the raw table', () => {
    expect(history.tierFor(MINUTE)).toBe('1m');
    expect(history.tierFor(5 * MINUTE)).toBe('1m');
    expect(history.tierFor(HOUR)).toBe('1h');
    expect(history.tierFor(24 * HOUR)).toBe('1h');
    expect(history.tierFor(30_000)).toBe('raw');
    expect(history.tierFor(90_000)).toBe('raw');
    expect(new TelemetryHistoryRepository(client, 'postgresql').tierFor(HOUR)).toBe('raw');
  });

  it('gives the same figures from the aggregates as from the raw table, for every agg and bucket size', async () => {
    // Not aligned to any bucket: both sources widen it to the same whole buckets.
    const range = { fromMs: base + 13 * MINUTE + 17_000, toMs: base + 3 * HOUR - 4 * MINUTE - 2_000 };
    for (const bucketMs of [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 3 * HOUR, 30_000]) {
      for (const agg of HISTORY_AGGS) {
        const query = { deviceIds: devices, metrics: '*' as const, ...range, bucketMs, agg };
        const expected = reference(samples, range, bucketMs, agg);
        const label = `${bucketMs / 1000}s ${agg} from ${history.tierFor(bucketMs)}`;
        const fromTier = await history.bucketed(query);
        expect(fromTier.tier).toBe(history.tierFor(bucketMs));
        expectSameFigures(flatten(fromTier.series), expected, label);
        const fromRaw = await history.bucketed({ ...query, source: 'raw' });
        expect(fromRaw.tier).toBe('raw');
        expectSameFigures(flatten(fromRaw.series), expected, `${label} (raw)`);
        // Exact sums: the same numbers from every tier, to the last digit.
        expect(flatten(fromTier.series), label).toEqual(flatten(fromRaw.series));
      }
    }
  });

  it('names the newest raw row each bucketed series includes', async () => {
    const range = { fromMs: base, toMs: base + 90 * MINUTE };
    const { series } = await history.bucketed({
      deviceIds: devices,
      metrics: ['temp'],
      ...range,
      bucketMs: HOUR,
      agg: 'avg',
    });
    // Widened to whole hours: [base, base + 2h).
    const newest = (deviceId: string) =>
      Math.max(
        ...samples
          .filter((s) => s.deviceId === deviceId && s.metric === 'temp' && s.time < base + 2 * HOUR)
          .map((s) => s.time),
      );
    expect(series.map((s) => [s.deviceId, s.metric, s.newest])).toEqual(
      devices.map((deviceId) => [deviceId, 'temp', newest(deviceId)]).sort(),
    );
  });

  it('reads a late row from raw rows until a refresh materializes it, then from the aggregate', async () => {
    const late: Sample = { deviceId: devices[0]!, metric: 'temp', time: base + 10 * MINUTE + 500, value: 1000 };
    await insert([late]);
    const query = {
      deviceIds: [late.deviceId],
      metrics: ['temp'],
      fromMs: base,
      toMs: base + HOUR,
      bucketMs: 5 * MINUTE,
      agg: 'max' as const,
    };
    const maxAt = ({ series }: { series: HistorySeries[] }) =>
      series[0]!.values[series[0]!.times.indexOf(base + 10 * MINUTE)];
    expect(maxAt(await history.bucketed({ ...query, source: 'raw' }))).toBe(1000);
    // Materialized without it: the aggregate's figure for that minute is stale until a refresh.
    const [materialized] = await client.sql<{ max: number }[]>`
      SELECT max FROM telemetry_1m WHERE device_id = ${late.deviceId} AND metric = 'temp'
        AND bucket = to_timestamp(${(base + 10 * MINUTE) / 1000}::float8)`;
    expect(materialized?.max).toBeLessThan(1000);
    expect(maxAt(await history.bucketed(query))).toBe(1000);
    await refresh('telemetry_1m', base, base + HOUR);
    expect(maxAt(await history.bucketed(query))).toBe(1000);
    expectSameFigures(
      flatten((await history.bucketed(query)).series),
      flatten((await history.bucketed({ ...query, source: 'raw' })).series),
      'after refresh',
    );
  });

  it('includes rows not yet materialized (real-time aggregation), also ones written after the refresh', async () => {
    const fresh: Sample = { deviceId: devices[1]!, metric: 'temp', time: base + 2 * HOUR + 30 * MINUTE, value: 42 };
    await insert([fresh]);
    const query = {
      deviceIds: [fresh.deviceId],
      metrics: ['temp'],
      fromMs: materializedUntil,
      toMs: base + 3 * HOUR,
      bucketMs: HOUR,
      agg: 'count' as const,
    };
    const rows = samples.filter(
      (s) => s.deviceId === fresh.deviceId && s.metric === 'temp' && s.time >= query.fromMs && s.time < query.toMs,
    );
    const [series] = (await history.bucketed(query)).series;
    expect(series).toMatchObject({ times: [materializedUntil], values: [rows.length] });
    expect((await history.bucketed({ ...query, agg: 'max' })).series[0]!.values).toEqual([42]);

    // The same hour from the materialized part alone is empty: the figures above came from raw rows at query time.
    await client.sql`ALTER MATERIALIZED VIEW telemetry_1h SET (timescaledb.materialized_only = true)`;
    try {
      expect((await history.bucketed(query)).series).toEqual([]);
    } finally {
      await client.sql`ALTER MATERIALIZED VIEW telemetry_1h SET (timescaledb.materialized_only = false)`;
    }
  });

  it('reads raw rows from the hypertable, and lists the metrics in a range', async () => {
    const range = { fromMs: base + HOUR, toMs: base + HOUR + 10 * MINUTE };
    const { series } = await history.raw({ deviceIds: [devices[0]!], metrics: '*', ...range, rowsPerSeries: 10_000 });
    const expected = (metric: string) =>
      samples
        .filter(
          (s) => s.deviceId === devices[0] && s.metric === metric && s.time >= range.fromMs && s.time < range.toMs,
        )
        .sort((a, b) => a.time - b.time);
    expect(series.map((s) => s.metric)).toEqual(['hum', 'temp']);
    for (const item of series) {
      expect(item.times).toEqual(expected(item.metric).map((s) => s.time));
      expect(item.values).toEqual(expected(item.metric).map((s) => s.value));
    }
    expect(await history.metricsInRange(devices[1]!, range.fromMs, range.toMs)).toEqual(['temp']);
  });

  it('streams the same rows through cursors, a batch at a time', async () => {
    const range = { fromMs: base + HOUR, toMs: base + HOUR + 10 * MINUTE };
    const key = { deviceId: devices[0]!, metric: 'temp' };
    const collect = async (batches: AsyncIterable<{ metric: string; time: number; value: number }[]>) => {
      const rows = [];
      for await (const batch of batches) {
        expect(batch.length).toBeLessThanOrEqual(25);
        rows.push(...batch);
      }
      return rows;
    };
    const {
      series: [raw],
    } = await history.raw({
      deviceIds: [key.deviceId],
      metrics: [key.metric],
      ...range,
      rowsPerSeries: 1000,
    });
    const streamed = await collect(history.rawCursor(key, range.fromMs, range.toMs, 25));
    expect(streamed.map((row) => [row.time, row.value])).toEqual(raw!.times.map((time, i) => [time, raw!.values[i]]));

    const query = { deviceIds: [key.deviceId], metrics: '*' as const, ...range, bucketMs: MINUTE, agg: 'avg' as const };
    const { series: bucketed } = await history.bucketed(query);
    const streamedBuckets = await collect(history.bucketedCursor(query, 25));
    expect(streamedBuckets.map((row) => [row.metric, row.time, row.value])).toEqual(
      bucketed.flatMap((series) => series.times.map((time, i) => [series.metric, time, series.values[i]])),
    );
  });
});
