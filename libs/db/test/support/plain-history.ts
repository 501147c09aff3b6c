import { BUCKET_ORIGIN_MS, type DatabaseClient, type HistoryAgg, wholeBucketRange } from '@telehub/db';

/**
 * The figures as SQL over the raw table computes them on plain PostgreSQL (no time_bucket, no last()): whole
 * buckets over [from, to), from `coveredFromMs` on, with date_bin at the hub's bucket origin. `last` is the value
 * of the newest row, found by sorting, not the way the repository finds it, so the two check each other.
 */
export async function plainRawFigures(
  client: DatabaseClient,
  query: { deviceIds: string[]; fromMs: number; toMs: number; bucketMs: number; agg: HistoryAgg },
  coveredFromMs = Number.NEGATIVE_INFINITY,
): Promise<Map<string, number>> {
  const whole = wholeBucketRange(query.fromMs, query.toMs, query.bucketMs);
  const fromMs = Math.max(whole.fromMs, coveredFromMs);
  const expression = {
    avg: 'avg(value)',
    min: 'min(value)',
    max: 'max(value)',
    count: 'count(*)',
    last: '(array_agg(value ORDER BY time DESC))[1]',
  }[query.agg];
  const rows = await client.sql<{ device_id: string; metric: string; t: number; v: number }[]>`
    SELECT device_id, metric,
      (extract(epoch FROM date_bin(make_interval(secs => ${query.bucketMs / 1000}::float8), time,
        to_timestamp(${BUCKET_ORIGIN_MS / 1000}::float8))) * 1000)::float8 AS t,
      (${client.sql.unsafe(expression)})::float8 AS v
    FROM telemetry
    WHERE device_id = ANY(${query.deviceIds}::uuid[])
      AND time >= to_timestamp(${fromMs}::float8 / 1000) AND time < to_timestamp(${whole.toMs}::float8 / 1000)
    GROUP BY 1, 2, 3`;
  return new Map(rows.map((row) => [`${row.device_id}|${row.metric}|${row.t}`, row.v]));
}
