import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres';
import type { DatabaseClient } from '../client.js';
import type { DatabaseMode } from '../database-mode.js';
import {
  ceilToBucket,
  type HistoryTier,
  type Interval,
  type RetentionTiers,
  staleIntervals,
  TIER_BUCKET_MS,
  TIER_RELATIONS,
  tierFor,
  tierHorizon,
} from '../history-tiers.js';
import { type DatabaseSnapshot, parseSnapshot } from '../snapshot-visibility.js';
import { AggregateFreshnessReader } from './aggregate-freshness.js';
import {
  AGGREGATE_EXPRESSIONS,
  anyInterval,
  metricFilter,
  type Runner,
  rawExpression,
  timeRange,
} from './history-sql.js';

export const HISTORY_AGGS = ['avg', 'min', 'max', 'last', 'count'] as const;
export type HistoryAgg = (typeof HISTORY_AGGS)[number];

/**
 * Buckets start at this origin plus whole multiples of the bucket size. It is TimescaleDB's default
 * time_bucket origin (Monday 2000-01-03 00:00 UTC), which the continuous aggregates were built with, so
 * re-bucketing them lines up with bucketing raw rows; and weeks start on Mondays. Both date_bin and
 * time_bucket are given it explicitly, so plain PostgreSQL and TimescaleDB put boundaries in the same place.
 */
export const BUCKET_ORIGIN_MS = Date.UTC(2000, 0, 3);

/** Every tier keeps everything: the default where no retention applies (tests, tools). */
const KEEP_FOREVER: RetentionTiers = { rawDays: 0, minuteDays: 0, hourDays: 0 };

/**
 * Stale ranges a query reads from raw rows at most; closer ones are merged beyond it. Each is one more range in
 * the statement; merging reads a few more raw rows instead.
 */
const MAX_STALE_INTERVALS = 32;

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
  /** Also report the database snapshot the rows were read in (one more statement): see RawHistory. */
  withSnapshot?: boolean;
}

export interface BucketedHistoryQuery extends HistoryRange {
  bucketMs: number;
  agg: HistoryAgg;
  /** 'raw' forces the raw table even where a continuous aggregate could answer (for comparisons). */
  source?: 'auto' | 'raw';
  /** The clock the tiers' retention is counted from (default: now). */
  nowMs?: number;
}

/** Which tier answers a query, and the part of the range it holds. */
export interface TierCoverage {
  tier: HistoryTier;
  /**
   * Epoch ms: the answer covers [coveredFromMs, to). It is the range's start, or later where the tier's retention
   * ends later (rounded up to a whole bucket): nothing older is read, even from chunks not dropped yet, so every
   * bucket size answers the same way for the same tier.
   */
  coveredFromMs: number;
}

export interface RawHistory {
  series: HistorySeries[];
  /**
   * With `withSnapshot`, the snapshot the read saw: with the transaction id of a committed batch
   * (TelemetryRepository.insertBatchWithLatest) it tells whether the read includes that batch.
   */
  snapshot: DatabaseSnapshot | undefined;
}

export interface BucketedHistory extends TierCoverage, RawHistory {}

/** A bucketed query as it will run: its tier, the range it covers, and what to read from raw rows. */
interface BucketedPlan extends HistoryRange {
  bucketMs: number;
  agg: HistoryAgg;
  tier: HistoryTier;
  /** For an aggregate tier: buckets it has not materialized, read from raw rows. */
  stale: Interval[];
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

/**
 * The first statement of a repeatable-read transaction fixes its snapshot: this one reports it, when the query
 * asks for it (`pg_current_snapshot()`, "xmin:xmax:xip,…").
 */
async function snapshotOf(tx: Sql | TransactionSql, range: HistoryRange): Promise<DatabaseSnapshot | undefined> {
  if (!range.withSnapshot) return undefined;
  const [row] = await tx<{ snapshot: string }[]>`SELECT pg_current_snapshot()::text AS snapshot`;
  return parseSnapshot(row!.snapshot);
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
  private readonly freshness = new AggregateFreshnessReader();

  constructor(
    private readonly client: DatabaseClient,
    private readonly mode: DatabaseMode,
    private readonly retention: RetentionTiers = KEEP_FOREVER,
  ) {}

  /**
   * The tier that answers buckets of `bucketMs`: the continuous aggregates hold sum, count, min, max and last per
   * minute and per hour, from which every agg of a whole number of their buckets follows exactly. Other bucket
   * sizes, and plain PostgreSQL, read the raw table.
   */
  tierFor(bucketMs: number): HistoryTier {
    return tierFor(this.mode, bucketMs);
  }

  /** The raw tier's coverage of a range of raw rows (bucket=raw): from its retention horizon on. */
  rawCoverage(fromMs: number, nowMs = Date.now()): TierCoverage {
    return { tier: 'raw', coveredFromMs: Math.max(fromMs, tierHorizon('raw', this.retention, nowMs)) };
  }

  /**
   * One point per bucket that has rows, per series that has rows (ordered by device, metric, time), over the
   * range widened to whole buckets and cut to what the answering tier keeps. Read in one repeatable-read
   * snapshot with each series' newest row time, so that time names exactly what the figures include.
   */
  async bucketed(query: BucketedHistoryQuery): Promise<BucketedHistory> {
    return this.client.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const snapshot = await snapshotOf(tx, query);
      const plan = await this.plan(tx, query);
      const series = plan.fromMs < plan.toMs ? toSeries(await this.bucketedStatement(tx, plan)) : [];
      await this.fillNewest(tx, series, plan);
      return { tier: plan.tier, coveredFromMs: plan.fromMs, series, snapshot };
    });
  }

  /**
   * The bucketed rows as a cursor, `rowsPerFetch` at a time, for streaming (ordered by device, metric, time):
   * the same plan and statement as `bucketed`, so the same figures, read in one snapshot on a reserved connection.
   */
  async *bucketedCursor(query: BucketedHistoryQuery, rowsPerFetch: number): AsyncIterable<HistoryRow[]> {
    const reserved = await this.client.sql.reserve();
    let open = false;
    try {
      await reserved`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
      open = true;
      const plan = await this.plan(reserved, query);
      if (plan.fromMs < plan.toMs) {
        for await (const rows of this.bucketedStatement(reserved, plan).cursor(rowsPerFetch)) {
          yield rows.map((row) => ({ metric: row.metric, time: row.t, value: row.v }));
        }
      }
      open = false;
      await reserved`COMMIT`;
    } finally {
      if (open) await reserved`ROLLBACK`.catch(() => undefined);
      reserved.release();
    }
  }

  /**
   * Raw rows, oldest first, at most `rowsPerSeries` per series, one series per (device, metric): for the
   * metrics named (empty series included) or, for '*', those with rows in the range.
   */
  async raw(query: RawHistoryQuery): Promise<RawHistory> {
    return this.client.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const snapshot = await snapshotOf(tx, query);
      const keys =
        query.metrics === '*'
          ? await this.seriesInRange(tx, query)
          : query.deviceIds.flatMap((deviceId) => (query.metrics as string[]).map((metric) => ({ deviceId, metric })));
      if (keys.length === 0) return { series: [], snapshot };
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
      const series = keys.map(
        (key) =>
          found.get(keyOf(key)) ?? { deviceId: key.deviceId, metric: key.metric, times: [], values: [], newest: null },
      );
      return { series, snapshot };
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

  /**
   * The tier answering the query and what it covers. An aggregate tier also gets the buckets it holds no current
   * figures for: late rows invalidated them and no refresh has run since (see AggregateFreshnessReader). Those
   * are read from raw rows, so an answer never misses a row because the aggregate has not caught up; real-time
   * aggregation already does the same above the watermark. Invalidations older than the raw retention are left:
   * there the aggregate is all that is kept.
   */
  private async plan(sql: Runner, query: BucketedHistoryQuery): Promise<BucketedPlan> {
    const nowMs = query.nowMs ?? Date.now();
    const tier = query.source === 'raw' ? 'raw' : this.tierFor(query.bucketMs);
    const whole = wholeBucketRange(query.fromMs, query.toMs, query.bucketMs);
    const horizon = tierHorizon(tier, this.retention, nowMs);
    const fromMs = Math.max(whole.fromMs, ceilToBucket(horizon, query.bucketMs, BUCKET_ORIGIN_MS));
    const plan: BucketedPlan = { ...query, tier, fromMs, toMs: whole.toMs, stale: [] };
    if (tier === 'raw' || fromMs >= whole.toMs) return plan;
    const freshness = await this.freshness.read(sql, TIER_RELATIONS[tier], plan);
    plan.stale = staleIntervals(freshness.invalidated, {
      fromMs,
      toMs: whole.toMs,
      watermarkMs: freshness.watermarkMs,
      rawFromMs: tierHorizon('raw', this.retention, nowMs),
      bucketMs: TIER_BUCKET_MS[tier],
      maxIntervals: MAX_STALE_INTERVALS,
    });
    return plan;
  }

  private bucketedStatement(sql: Runner, plan: BucketedPlan): PendingQuery<SeriesRow[]> {
    const fromAggregate = plan.tier !== 'raw';
    const timeColumn = fromAggregate ? 'bucket' : 'time';
    const width = sql`make_interval(secs => ${plan.bucketMs / 1000}::float8)`;
    const origin = sql`to_timestamp(${BUCKET_ORIGIN_MS / 1000}::float8)`;
    // time_bucket and date_bin agree when given the same origin; time_bucket is the one TimescaleDB optimizes.
    const bucket =
      this.mode === 'timescaledb'
        ? sql`time_bucket(${width}, ${sql(timeColumn)}, ${origin})`
        : sql`date_bin(${width}, ${sql(timeColumn)}, ${origin})`;
    const value = fromAggregate ? AGGREGATE_EXPRESSIONS[plan.agg] : rawExpression(plan.agg, this.mode);
    const source = fromAggregate ? this.aggregateRows(sql, plan) : sql`telemetry`;
    const where = fromAggregate
      ? sql``
      : sql`WHERE device_id = ANY(${plan.deviceIds}::uuid[]) ${metricFilter(sql, plan.metrics)}
          AND ${timeRange(sql, 'time', plan)}`;
    return sql<SeriesRow[]>`
      SELECT device_id, metric, (extract(epoch FROM bucket_start) * 1000)::float8 AS t, v FROM (
        SELECT device_id, metric, ${bucket} AS bucket_start, (${sql.unsafe(value)})::float8 AS v
        FROM ${source} ${where}
        GROUP BY device_id, metric, bucket_start
      ) AS buckets
      ORDER BY device_id, metric, bucket_start`;
  }

  /**
   * An aggregate's rows for the plan: materialized (and real-time) buckets outside the stale ranges, and the
   * stale ranges' buckets computed from raw rows the way the aggregate computes them.
   */
  private aggregateRows(sql: Runner, plan: BucketedPlan) {
    const tier = plan.tier as Exclude<HistoryTier, 'raw'>;
    const filter = sql`device_id = ANY(${plan.deviceIds}::uuid[]) ${metricFilter(sql, plan.metrics)}`;
    const materialized = sql`
      SELECT bucket, device_id, metric, "sum", "count", "min", "max", "last" FROM ${sql(TIER_RELATIONS[tier])}
      WHERE ${filter} AND ${timeRange(sql, 'bucket', plan)}
        ${plan.stale.length > 0 ? sql`AND NOT (${anyInterval(sql, 'bucket', plan.stale)})` : sql``}`;
    if (plan.stale.length === 0) return sql`(${materialized}) AS tier`;
    const width = sql`make_interval(secs => ${TIER_BUCKET_MS[tier] / 1000}::float8)`;
    return sql`(${materialized}
      UNION ALL
      SELECT time_bucket(${width}, time) AS bucket, device_id, metric,
        sum(value::numeric), count(*), min(value), max(value), last(value, time)
      FROM telemetry
      WHERE ${filter} AND (${anyInterval(sql, 'time', plan.stale)})
      GROUP BY 1, 2, 3) AS tier`;
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
