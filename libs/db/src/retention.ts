import type { TransactionSql } from 'postgres';
import type { DatabaseClient } from './client.js';
import type { DatabaseMode } from './database-mode.js';
import type { RetentionTiers } from './history-tiers.js';

/**
 * Makes the database keep each tier as long as its setting says (0 = forever).
 * TimescaleDB: a retention policy per tier (raw table, 1-minute and 1-hour aggregates) that drops whole chunks,
 * and the aggregates' refresh policies reach back exactly as far as the raw rows are kept: dropping raw chunks
 * invalidates the aggregates over them, and a refresh there would replace their figures with nothing. Policies
 * are changed in place (alter_job), so a job keeps its id and its run history across restarts.
 * Plain PostgreSQL has no jobs, so the hub calls `deleteExpiredTelemetry` on a timer instead (raw tier only).
 */
export async function applyRetentionPolicies(
  client: DatabaseClient,
  mode: DatabaseMode,
  tiers: RetentionTiers,
): Promise<void> {
  if (mode !== 'timescaledb') return;
  await client.sql.begin(async (tx) => {
    await setRetention(tx, 'telemetry', tiers.rawDays);
    await setRetention(tx, 'telemetry_1m', tiers.minuteDays);
    await setRetention(tx, 'telemetry_1h', tiers.hourDays);
    for (const view of ['telemetry_1m', 'telemetry_1h']) await setRefreshStart(tx, view, tiers.rawDays);
  });
}

interface Job {
  job_id: number;
  config: Record<string, unknown>;
}

async function findJob(tx: TransactionSql, proc: string, relation: string): Promise<Job | undefined> {
  const [job] = await tx<Job[]>`
    SELECT job_id, config FROM timescaledb_information.jobs
    WHERE proc_name = ${proc} AND hypertable_schema = current_schema() AND hypertable_name = ${relation}`;
  return job;
}

async function setRetention(tx: TransactionSql, relation: string, days: number): Promise<void> {
  const job = await findJob(tx, 'policy_retention', relation);
  if (days <= 0) {
    if (job) await tx`SELECT remove_retention_policy(${relation}::regclass)`;
    return;
  }
  if (!job) {
    await tx`SELECT add_retention_policy(${relation}::regclass, make_interval(days => ${days}::int))`;
    return;
  }
  const [same] = await tx<{ same: boolean }[]>`
    SELECT (${job.config.drop_after as string})::interval = make_interval(days => ${days}::int) AS same`;
  if (same?.same) return;
  await tx`SELECT alter_job(${job.job_id}::int, config => jsonb_set(${JSON.stringify(job.config)}::jsonb,
    '{drop_after}', to_jsonb(make_interval(days => ${days}::int)::text)))`;
}

/** The refresh window's start: the raw retention, or none when raw rows are kept forever. */
async function setRefreshStart(tx: TransactionSql, view: string, rawDays: number): Promise<void> {
  const job = await findJob(tx, 'policy_refresh_continuous_aggregate', view);
  if (!job) return;
  const [current] = await tx<{ same: boolean }[]>`
    SELECT ${(job.config.start_offset as string | null) ?? null}::interval
      IS NOT DISTINCT FROM ${rawDays > 0 ? `${rawDays} days` : null}::interval AS same`;
  if (current?.same) return;
  await tx`SELECT alter_job(${job.job_id}::int, config => jsonb_set(${JSON.stringify(job.config)}::jsonb,
    '{start_offset}', ${rawDays > 0 ? tx`to_jsonb(make_interval(days => ${rawDays}::int)::text)` : tx`'null'::jsonb`}))`;
}

/** Plain-PostgreSQL retention: deletes rows older than `days` days, in bounded slices so locks stay short. */
export async function deleteExpiredTelemetry(
  client: DatabaseClient,
  days: number,
  sliceRows = 50_000,
): Promise<number> {
  if (days <= 0) return 0;
  let deleted = 0;
  for (;;) {
    const result = await client.sql`
      DELETE FROM telemetry WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM telemetry WHERE time < now() - make_interval(days => ${days}::int) LIMIT ${sliceRows}))`;
    deleted += result.count;
    if (result.count < sliceRows) return deleted;
  }
}
