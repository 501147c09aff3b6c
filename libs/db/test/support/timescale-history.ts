import {
  BUCKET_ORIGIN_MS,
  type DatabaseClient,
  type HistoryAgg,
  type HistorySeries,
  TelemetryRepository,
  wholeBucketRange,
} from '@telehub/db';
import { expect } from 'vitest';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Sample {
  deviceId: string;
  metric: string;
  time: number;
  value: number;
}

/** Each sample in a statement of its own, as the hub writes a device's messages (the ingest statement). */
export async function post(client: DatabaseClient, samples: Sample[]): Promise<void> {
  const telemetry = new TelemetryRepository(client);
  for (const sample of samples) {
    const row = {
      times: [sample.time],
      deviceIds: [sample.deviceId],
      metrics: [sample.metric],
      values: [sample.value],
    };
    await telemetry.insertBatchWithLatest(row, row);
  }
}

/**
 * Each sample as the hub's late lane writes a point older than the compression horizon (rows first, then the
 * latest value: TelemetryRepository.insertRowsThenLatest).
 */
export async function postLate(client: DatabaseClient, samples: Sample[]): Promise<void> {
  const telemetry = new TelemetryRepository(client);
  for (const sample of samples) {
    const row = {
      times: [sample.time],
      deviceIds: [sample.deviceId],
      metrics: [sample.metric],
      values: [sample.value],
    };
    await telemetry.insertRowsThenLatest(row, row);
  }
}

/** The samples in one statement, as one ingest batch of the hub (rows of many devices and times). */
export async function postBatch(client: DatabaseClient, samples: Sample[]): Promise<void> {
  const batch = {
    times: samples.map((sample) => sample.time),
    deviceIds: samples.map((sample) => sample.deviceId),
    metrics: samples.map((sample) => sample.metric),
    values: samples.map((sample) => sample.value),
  };
  await new TelemetryRepository(client).insertBatch(batch);
}

/**
 * Runs every policy job of the telemetry tiers once, as TimescaleDB's scheduler would (PGlite has no background
 * workers): the refreshes first, then compression, then retention, or only those of `procs`.
 */
export async function runPolicyJobs(client: DatabaseClient, procs?: string[]): Promise<string[]> {
  const jobs = await client.sql<{ job_id: number; proc_name: string; hypertable_name: string }[]>`
    SELECT job_id, proc_name, hypertable_name FROM timescaledb_information.jobs
    WHERE hypertable_name LIKE 'telemetry%'
    ORDER BY array_position(ARRAY['policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention'],
      proc_name::text), hypertable_name DESC`;
  const ran: string[] = [];
  for (const job of jobs) {
    if (procs && !procs.includes(job.proc_name)) continue;
    await client.sql`CALL run_job(${job.job_id}::int)`;
    ran.push(`${job.proc_name} ${job.hypertable_name}`);
  }
  return ran;
}

/**
 * The figures as SQL over the raw table computes them: whole buckets over [from, to), from `coveredFromMs` on.
 * avg is PostgreSQL's own avg(value) over float8.
 */
export async function rawFigures(
  client: DatabaseClient,
  query: { deviceIds: string[]; fromMs: number; toMs: number; bucketMs: number; agg: HistoryAgg },
  coveredFromMs = Number.NEGATIVE_INFINITY,
  avg = 'avg(value)',
): Promise<Map<string, number>> {
  const whole = wholeBucketRange(query.fromMs, query.toMs, query.bucketMs);
  const fromMs = Math.max(whole.fromMs, coveredFromMs);
  const expression = {
    avg,
    min: 'min(value)',
    max: 'max(value)',
    count: 'count(*)',
    last: 'last(value, time)',
  }[query.agg];
  const rows = await client.sql<{ device_id: string; metric: string; t: number; v: number }[]>`
    SELECT device_id, metric,
      (extract(epoch FROM time_bucket(make_interval(secs => ${query.bucketMs / 1000}::float8), time,
        to_timestamp(${BUCKET_ORIGIN_MS / 1000}::float8))) * 1000)::float8 AS t,
      (${client.sql.unsafe(expression)})::float8 AS v
    FROM telemetry
    WHERE device_id = ANY(${query.deviceIds}::uuid[])
      AND time >= to_timestamp(${fromMs}::float8 / 1000) AND time < to_timestamp(${whole.toMs}::float8 / 1000)
    GROUP BY 1, 2, 3`;
  return new Map(rows.map((row) => [`${row.device_id}|${row.metric}|${row.t}`, row.v]));
}

export function flatten(series: HistorySeries[]): Map<string, number> {
  const figures = new Map<string, number>();
  for (const item of series) {
    item.times.forEach((time, index) => {
      figures.set(`${item.deviceId}|${item.metric}|${time}`, item.values[index]!);
    });
  }
  return figures;
}

/** Every bucket, and nothing else; averages to 12 significant digits (sums of floats differ in the last bits). */
export function expectSameFigures(actual: Map<string, number>, expected: Map<string, number>, label: string): void {
  expect([...actual.keys()].sort(), label).toEqual([...expected.keys()].sort());
  for (const [key, value] of expected) {
    const got = actual.get(key)!;
    expect(Math.abs(got - value), `${label} ${key}: ${got} ≠ ${value}`).toBeLessThanOrEqual(Math.abs(value) * 1e-12);
  }
}

export function sum(figures: Map<string, number>): number {
  let total = 0;
  for (const value of figures.values()) total += value;
  return total;
}
