import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres';
import type { DatabaseClient } from '../client.js';
import type { DatabaseMode } from '../database-mode.js';

export const HISTORY_AGGS = ['avg', 'min', 'max', 'last', 'count'] as const;
export type HistoryAgg = (typeof HISTORY_AGGS)[number];

/**
 * Buckets start at this origin plus whole multiples of the bucket size. It is TimescaleDB's default
 * time_bucket origin (Monday 2000-01-03 00:00 UTC), which the continuous aggregates were built with, so
 * re-bucketing them lines up with bucketing raw rows; and weeks start on Mondays. Both date_bin and
 * time_bucket are given it explicitly, so plain PostgreSQL and TimescaleDB put boundaries in the same place.
 */
export const BUCKET_ORIGIN_MS = Date.UTC(2000, 0, 3);

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Where a bucketed query reads: the raw hypertable/table or a continuous aggregate (TimescaleDB only). */
export type HistorySource = 'telemetry' | 'telemetry_1m' | 'telemetry_1h';

export interface SeriesKey {
  deviceId: string;
  metric: string;
}

/** One series, columnar: index i of `times` (epoch ms) goes with index i of `values`, oldest first. */
export interface HistorySeries extends SeriesKey {
  times: number[];
  values: number[];
  /** Epoch ms of the newest raw row the series includes (null when it has none). */
  newest: number | null;
}

export interface HistoryRange {
  deviceIds: string[];
  /** '*': every metric that has rows in the range. */
  metrics: string[] | '*';
  /** Inclusive, epoch ms. */
  fromMs: number;
  /** Exclusive, epoch ms. */
  toMs: number;
}

export interface BucketedHistoryQuery extends HistoryRange {
  bucketMs: number;
  agg: HistoryAgg;
  /** 'raw' forces the raw table even where a continuous aggregate could answer (for comparisons). */
  source?: 'auto' | 'raw';
}

export interface RawHistoryQuery extends HistoryRange {
  /** At most this many rows per series are read, oldest first; the caller passes its limit + 1 to detect more. */
  rowsPerSeries: number;
}

/** One output row of a streamed query: a raw sample or a bucket (time = bucket start). */
export interface HistoryRow {
  metric: string;
  time: number;
  value: number;
}

/** The first bucket boundary at or before `timeMs`. */
export function bucketStart(timeMs: number, bucketMs: number): number {
  return BUCKET_ORIGIN_MS + Math.floor((timeMs - BUCKET_ORIGIN_MS) / bucketMs) * bucketMs;
}

/**
 * [from, to) widened to whole buckets: a bucketed point always covers its whole bucket. This is also what
 * makes the continuous aggregates (whole minutes and hours) give the same figures as the raw table.
 */
export function wholeBucketRange(fromMs: number, toMs: number, bucketMs: number): { fromMs: number; toMs: number } {
  const lastStart = bucketStart(toMs, bucketMs);
  return { fromMs: bucketStart(fromMs, bucketMs), toMs: lastStart === toMs ? toMs : lastStart + bucketMs };
}

/** The pool or a transaction: either runs a statement. */
type Runner = Sql | TransactionSql;

/**
 * Told the snapshot (`pg_current_snapshot()`, "xmin:xmax:xip,…") a history read saw: with the transaction id
 * of a committed batch (TelemetryRepository.insertBatchWithLatest) it tells whether the read includes it.
 */
export type SnapshotListener = (snapshot: string) => void;

/** The first statement of a repeatable-read transaction fixes its snapshot: this one reports it. */
async function currentSnapshot(tx: Sql | TransactionSql): Promise<string> {
  const [row] = await tx<{ snapshot: string }[]>`SELECT pg_current_snapshot()::text AS snapshot`;
  return row!.snapshot;
}

interface SeriesRow extends Row {
  device_id: string;
  metric: string;
  t: number;
  v: number;
}

/**
 * Reads telemetry history: bucketed aggregates and raw samples, for one or many devices. Times cross the
 * wire as epoch ms in both directions (drizzle, sharing the client, turns off postgres.js's timestamp
 * parsing and serializing). The range is half-open, [from, to).
 */
export class TelemetryHistoryRepository {
  constructor(
    private readonly client: DatabaseClient,
    private readonly mode: DatabaseMode,
  ) {}

  /**
   * The continuous aggregates hold avg, min, max, count and last per minute and per hour, from which every
   * agg of a whole number of their buckets follows (avg as a count-weighted mean). Other bucket sizes, and
   * plain PostgreSQL, read the raw table.
   */
  sourceFor(bucketMs: number, agg: HistoryAgg): HistorySource {
    if (this.mode !== 'timescaledb' || !(agg in AGGREGATE_EXPRESSIONS)) return 'telemetry';
    if (bucketMs % HOUR_MS === 0) return 'telemetry_1h';
    if (bucketMs % MINUTE_MS === 0) return 'telemetry_1m';
    return 'telemetry';
  }

  /**
   * One point per bucket that has rows, per series that has rows (ordered by device, metric, time), over the
   * range widened to whole buckets. Read in one repeatable-read snapshot with each series' newest row time,
   * so that time names exactly what the figures include.
   */
  async bucketed(query: BucketedHistoryQuery, onSnapshot?: SnapshotListener): Promise<HistorySeries[]> {
    const range = { ...query, ...wholeBucketRange(query.fromMs, query.toMs, query.bucketMs) };
    return this.client.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      if (onSnapshot) onSnapshot(await currentSnapshot(tx));
      const series = toSeries(await this.bucketedStatement(tx, range));
      await this.fillNewest(tx, series, range);
      return series;
    });
  }

  /** The bucketed rows as a cursor, `rowsPerFetch` at a time, for streaming (ordered by device, metric, time). */
  bucketedCursor(query: BucketedHistoryQuery, rowsPerFetch: number): AsyncIterable<HistoryRow[]> {
    const range = { ...query, ...wholeBucketRange(query.fromMs, query.toMs, query.bucketMs) };
    return mapBatches(this.bucketedStatement(this.client.sql, range).cursor(rowsPerFetch), (row) => ({
      metric: row.metric,
      time: row.t,
      value: row.v,
    }));
  }

  /**
   * Raw rows, oldest first, at most `rowsPerSeries` per series, one series per (device, metric): for the
   * metrics named (empty series included) or, for '*', those with rows in the range.
   */
  async raw(query: RawHistoryQuery, onSnapshot?: SnapshotListener): Promise<HistorySeries[]> {
    return this.client.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      if (onSnapshot) onSnapshot(await currentSnapshot(tx));
      const keys =
        query.metrics === '*'
          ? await this.seriesInRange(tx, query)
          : query.deviceIds.flatMap((deviceId) => (query.metrics as string[]).map((metric) => ({ deviceId, metric })));
      if (keys.length === 0) return [];
      // A LATERAL per series: each reads its own index range in time order and stops at the limit.
      const rows = await tx<SeriesRow[]>`
        SELECT k.device_id, k.metric, (extract(epoch FROM r.time) * 1000)::float8 AS t, r.value AS v
        FROM unnest(${keys.map((key) => key.deviceId)}::uuid[], ${keys.map((key) => key.metric)}::text[])
          WITH ORDINALITY AS k (device_id, metric, ord)
        CROSS JOIN LATERAL (
          SELECT time, value FROM telemetry
          WHERE device_id = k.device_id AND metric = k.metric AND ${timeRange(tx, 'time', query)}
          ORDER BY time LIMIT ${query.rowsPerSeries}
        ) AS r
        ORDER BY k.ord, r.time`;
      const found = new Map(toSeries(rows).map((series) => [keyOf(series), series]));
      return keys.map(
        (key) =>
          found.get(keyOf(key)) ?? { deviceId: key.deviceId, metric: key.metric, times: [], values: [], newest: null },
      );
    });
  }

  /** The metrics of one device with rows in [from, to), in name order. */
  async metricsInRange(deviceId: string, fromMs: number, toMs: number): Promise<string[]> {
    const keys = await this.seriesInRange(this.client.sql, { deviceIds: [deviceId], fromMs, toMs });
    return keys.map((key) => key.metric);
  }

  /** One series' raw rows, oldest first, as a cursor of `rowsPerFetch` rows at a time, for streaming. */
  rawCursor(key: SeriesKey, fromMs: number, toMs: number, rowsPerFetch: number): AsyncIterable<HistoryRow[]> {
    const sql = this.client.sql;
    const cursor = sql<{ t: number; v: number }[]>`
      SELECT (extract(epoch FROM time) * 1000)::float8 AS t, value AS v FROM telemetry
      WHERE device_id = ${key.deviceId} AND metric = ${key.metric} AND ${timeRange(sql, 'time', { fromMs, toMs })}
      ORDER BY time`.cursor(rowsPerFetch);
    return mapBatches(cursor, (row) => ({ metric: key.metric, time: row.t, value: row.v }));
  }

  private bucketedStatement(sql: Runner, query: BucketedHistoryQuery): PendingQuery<SeriesRow[]> {
    const source = query.source === 'raw' ? 'telemetry' : this.sourceFor(query.bucketMs, query.agg);
    const fromAggregate = source !== 'telemetry';
    const timeColumn = fromAggregate ? 'bucket' : 'time';
    const width = sql`make_interval(secs => ${query.bucketMs / 1000}::float8)`;
    const origin = sql`to_timestamp(${BUCKET_ORIGIN_MS / 1000}::float8)`;
    // time_bucket and date_bin agree when given the same origin; time_bucket is the one TimescaleDB optimizes.
    const bucket =
      this.mode === 'timescaledb'
        ? sql`time_bucket(${width}, ${sql(timeColumn)}, ${origin})`
        : sql`date_bin(${width}, ${sql(timeColumn)}, ${origin})`;
    const value = fromAggregate ? AGGREGATE_EXPRESSIONS[query.agg] : rawExpression(query.agg, this.mode);
    return sql<SeriesRow[]>`
      SELECT device_id, metric, (extract(epoch FROM bucket_start) * 1000)::float8 AS t, v FROM (
        SELECT device_id, metric, ${bucket} AS bucket_start, (${sql.unsafe(value)})::float8 AS v
        FROM ${sql(source)}
        WHERE device_id = ANY(${query.deviceIds}::uuid[]) ${metricFilter(sql, query.metrics)}
          AND ${timeRange(sql, timeColumn, query)}
        GROUP BY device_id, metric, bucket_start
      ) AS buckets
      ORDER BY device_id, metric, bucket_start`;
  }

  /** Sets each series' `newest`: its latest raw row in the range, one index probe per series. */
  private async fillNewest(sql: Runner, series: HistorySeries[], range: HistoryRange): Promise<void> {
    if (series.length === 0) return;
    const rows = await sql<{ device_id: string; metric: string; newest: number }[]>`
      SELECT k.device_id, k.metric, (extract(epoch FROM n.time) * 1000)::float8 AS newest
      FROM unnest(${series.map((s) => s.deviceId)}::uuid[], ${series.map((s) => s.metric)}::text[])
        AS k (device_id, metric)
      CROSS JOIN LATERAL (
        SELECT time FROM telemetry
        WHERE device_id = k.device_id AND metric = k.metric AND ${timeRange(sql, 'time', range)}
        ORDER BY time DESC LIMIT 1
      ) AS n`;
    const newest = new Map(rows.map((row) => [keyOf({ deviceId: row.device_id, metric: row.metric }), row.newest]));
    for (const item of series) item.newest = newest.get(keyOf(item)) ?? null;
  }

  /**
   * The (device, metric) pairs with rows in the range. A loose index scan: one probe of the
   * (device_id, metric, time) index per metric a device has, then one per metric for the range, instead of
   * reading every row in the range as DISTINCT would.
   */
  private async seriesInRange(sql: Runner, range: Omit<HistoryRange, 'metrics'>): Promise<SeriesKey[]> {
    const rows = await sql<{ device_id: string; metric: string }[]>`
      WITH RECURSIVE found AS (
        SELECT d.id AS device_id, (SELECT min(metric) FROM telemetry WHERE device_id = d.id) AS metric
        FROM unnest(${range.deviceIds}::uuid[]) AS d (id)
        UNION ALL
        SELECT f.device_id,
          (SELECT min(metric) FROM telemetry WHERE device_id = f.device_id AND metric > f.metric)
        FROM found AS f WHERE f.metric IS NOT NULL
      )
      SELECT device_id, metric FROM found
      WHERE metric IS NOT NULL AND EXISTS (
        SELECT 1 FROM telemetry AS t
        WHERE t.device_id = found.device_id AND t.metric = found.metric AND ${timeRange(sql, 't.time', range)})
      ORDER BY device_id, metric`;
    return rows.map((row) => ({ deviceId: row.device_id, metric: row.metric }));
  }
}

/** Over the continuous aggregates' columns (see migrations/0002_create_telemetry_aggregates.sql). */
const AGGREGATE_EXPRESSIONS: Record<HistoryAgg, string> = {
  avg: 'sum("avg" * "count") / sum("count")',
  min: 'min("min")',
  max: 'max("max")',
  count: 'sum("count")',
  last: 'last("last", bucket)',
};

function rawExpression(agg: HistoryAgg, mode: DatabaseMode): string {
  switch (agg) {
    case 'avg':
      return 'avg(value)';
    case 'min':
      return 'min(value)';
    case 'max':
      return 'max(value)';
    case 'count':
      return 'count(*)';
    case 'last':
      // Plain PostgreSQL has no last(): the greatest [time, value] pair is the newest sample (ties: the larger
      // value), and it keeps one small array per group where array_agg would keep every value.
      return mode === 'timescaledb' ? 'last(value, time)' : '(max(ARRAY[extract(epoch FROM time)::float8, value]))[2]';
  }
}

function timeRange(sql: Runner, column: string, range: { fromMs: number; toMs: number }) {
  return sql`${sql(column)} >= to_timestamp(${range.fromMs}::float8 / 1000)
    AND ${sql(column)} < to_timestamp(${range.toMs}::float8 / 1000)`;
}

function metricFilter(sql: Runner, metrics: string[] | '*') {
  return metrics === '*' ? sql`` : sql`AND metric = ANY(${metrics}::text[])`;
}

function keyOf(key: SeriesKey): string {
  return `${key.deviceId}\u0000${key.metric}`;
}

/** Rows ordered by device, metric and time, grouped into columnar series. */
function toSeries(rows: readonly SeriesRow[]): HistorySeries[] {
  const series: HistorySeries[] = [];
  let current: HistorySeries | undefined;
  for (const row of rows) {
    if (current?.deviceId !== row.device_id || current.metric !== row.metric) {
      current = { deviceId: row.device_id, metric: row.metric, times: [], values: [], newest: null };
      series.push(current);
    }
    current.times.push(row.t);
    current.values.push(row.v);
  }
  for (const item of series) item.newest = item.times.at(-1) ?? null;
  return series;
}

async function* mapBatches<R, T>(batches: AsyncIterable<R[]>, map: (row: R) => T): AsyncIterable<T[]> {
  for await (const batch of batches) yield batch.map(map);
}
