import type { DatabaseClient } from './client.js';
import { detectTimescale, type TimescaleState } from './database-mode.js';

/**
 * The aggregates, how far behind now their refresh policies stop (their end_offset), and how much of a window
 * one refresh transaction takes (their policies' buckets_per_batch: a day of minutes, a week of hours).
 */
export const AGGREGATE_VIEWS = [
  { view: 'telemetry_1m', bucketMs: 60_000, endOffsetMs: 60_000, batchMs: 86_400_000 },
  { view: 'telemetry_1h', bucketMs: 3_600_000, endOffsetMs: 3_600_000, batchMs: 7 * 86_400_000 },
] as const;

export interface RefreshWindow {
  /** Epoch ms; null: from the beginning. */
  fromMs: number | null;
  /** Epoch ms; each aggregate stops at its policy's end offset before now anyway. */
  toMs: number;
}

/**
 * Refreshes both aggregates over a window (TimescaleDB only): each re-materializes only the invalidated buckets
 * in it, and the still-unmaterialized ones past its watermark, so a wide window without late data costs little.
 * The window is cut to [from, now − the policy's end offset): never a bucket still filling. Returns how long each took.
 */
export async function refreshAggregates(
  client: DatabaseClient,
  window: RefreshWindow,
  nowMs = Date.now(),
): Promise<Record<string, number>> {
  const took: Record<string, number> = {};
  for (const { view, bucketMs, endOffsetMs, batchMs } of AGGREGATE_VIEWS) {
    // Whole buckets only: TimescaleDB refuses a window that holds none.
    const toMs = Math.floor(Math.min(window.toMs, nowMs - endOffsetMs) / bucketMs) * bucketMs;
    const fromMs = window.fromMs === null ? null : Math.ceil(window.fromMs / bucketMs) * bucketMs;
    if (fromMs !== null && fromMs >= toMs) continue;
    const started = performance.now();
    // Newest first, a batch per transaction (each refresh_continuous_aggregate commits its own): a wide late
    // range never holds one long transaction, and the newest buckets are right first. Batch edges are whole
    // days or weeks, so whole buckets too.
    for (let end = toMs; fromMs === null || end > fromMs; end = Math.ceil(end / batchMs - 1) * batchMs) {
      const start = fromMs === null ? null : Math.max(fromMs, Math.ceil(end / batchMs - 1) * batchMs);
      await client.sql`CALL refresh_continuous_aggregate(${view}::regclass,
        ${start === null ? null : client.sql`to_timestamp(${start}::float8 / 1000)`}::timestamptz,
        to_timestamp(${end}::float8 / 1000))`;
      if (start === null) break;
    }
    took[view] = performance.now() - started;
  }
  return took;
}

/**
 * Runs the aggregates' refresh policies once, now, in this session (`CALL run_job`): the same window (the raw
 * retention) and batches as TimescaleDB's scheduler, for aggregates a migration or a conversion created empty.
 */
export async function runRefreshPolicies(client: DatabaseClient): Promise<Record<string, number>> {
  const jobs = await client.sql<{ job_id: number; view: string }[]>`
    SELECT job_id, hypertable_name AS view FROM timescaledb_information.jobs
    WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_schema = current_schema()
      AND hypertable_name IN ('telemetry_1m', 'telemetry_1h')
    ORDER BY hypertable_name DESC`;
  const took: Record<string, number> = {};
  for (const job of jobs) {
    const started = performance.now();
    await client.sql`CALL run_job(${job.job_id}::int)`;
    took[job.view] = performance.now() - started;
  }
  return took;
}

/**
 * How old a row must be to belong in a chunk the compression policy may be compressing: its compress_after less
 * one chunk interval (a chunk is compressed once its end is older than compress_after). Undefined without a
 * compression policy. A row for such a chunk may wait for a running compression; the hub writes those apart.
 */
export async function compressionAgeMs(client: DatabaseClient): Promise<number | undefined> {
  const [row] = await client.sql<{ ms: number | null }[]>`
    SELECT (extract(epoch FROM (j.config->>'compress_after')::interval - d.time_interval) * 1000)::float8 AS ms
    FROM timescaledb_information.jobs AS j
    JOIN timescaledb_information.dimensions AS d
      ON d.hypertable_schema = j.hypertable_schema AND d.hypertable_name = j.hypertable_name AND d.dimension_number = 1
    WHERE j.proc_name = 'policy_compression' AND j.hypertable_schema = current_schema()
      AND j.hypertable_name = 'telemetry'`;
  return row?.ms === null || row?.ms === undefined ? undefined : Math.max(0, row.ms);
}

export interface ConversionResult {
  /** What the database was before: `hypertable` means there was nothing to convert (the objects were checked). */
  before: TimescaleState;
  rows: number;
  durationMs: number;
}

/**
 * Turns a plain telemetry table into a hypertable with its data, and creates every TimescaleDB object telehub
 * uses (telehub_timescale_setup(), defined by migrations/0006_timescale_tiers.sql), in one transaction. Run it with
 * the hub stopped: moving the rows into chunks locks the table. The aggregates start empty; the hub refreshes
 * them at its next start, in the background. Run on a hypertable, it only re-checks the objects.
 */
export async function convertToTimescale(client: DatabaseClient): Promise<ConversionResult> {
  const before = await detectTimescale(client);
  if (before === 'absent') {
    throw new Error(
      'TimescaleDB is not available on this server: install it and add timescaledb to shared_preload_libraries, restart PostgreSQL, then run this again',
    );
  }
  const started = performance.now();
  const rows = await client.sql.begin(async (tx) => {
    await tx`CREATE EXTENSION IF NOT EXISTS timescaledb`;
    await tx`SELECT telehub_timescale_setup()`;
    const [count] = await tx<{ rows: string }[]>`SELECT count(*)::text AS rows FROM telemetry`;
    return Number(count?.rows ?? 0);
  });
  return { before, rows, durationMs: performance.now() - started };
}
