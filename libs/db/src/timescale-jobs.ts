import type { Sql } from 'postgres';

/** A TimescaleDB background job (compression, retention, refresh policy…) whose last run failed. */
export interface FailingJob {
  jobId: number;
  /** The policy: `policy_compression`, `policy_retention`, `policy_refresh_continuous_aggregate`, or a custom one. */
  proc: string;
  /** The hypertable or continuous aggregate it works on (null for jobs on none). */
  relation: string | null;
  /** Failed runs since the job was created (as the scheduler counts them). */
  totalFailures: number;
  /** Epoch ms of the failed run's start, and of the last success (null: never succeeded). */
  lastRunStartedAt: number | null;
  lastSuccessAt: number | null;
  /** The newest error the scheduler recorded for it (timescaledb_information.job_errors), if any. */
  error: string | null;
  sqlState: string | null;
}

/**
 * Jobs whose last run failed, from timescaledb_information.job_stats (kept by TimescaleDB's scheduler), with the
 * newest recorded error of each. A job that failed and then succeeded is not listed. Needs TimescaleDB.
 */
export async function failingJobs(sql: Sql): Promise<FailingJob[]> {
  const rows = await sql<
    {
      job_id: number;
      proc: string;
      relation: string | null;
      total_failures: string | null;
      started: number | null;
      succeeded: number | null;
      error: string | null;
      sqlstate: string | null;
    }[]
  >`
    SELECT j.job_id, j.proc_name AS proc, j.hypertable_name AS relation, s.total_failures::text AS total_failures,
      (extract(epoch FROM s.last_run_started_at) * 1000)::float8 AS started,
      (extract(epoch FROM s.last_successful_finish) * 1000)::float8 AS succeeded,
      e.err_message AS error, e.sqlerrcode AS sqlstate
    FROM timescaledb_information.jobs AS j
    JOIN timescaledb_information.job_stats AS s ON s.job_id = j.job_id
    LEFT JOIN LATERAL (
      SELECT err_message, sqlerrcode FROM timescaledb_information.job_errors AS e
      WHERE e.job_id = j.job_id ORDER BY e.start_time DESC NULLS LAST LIMIT 1
    ) AS e ON true
    WHERE s.last_run_status = 'Failed'
    ORDER BY j.job_id`;
  return rows.map((row) => ({
    jobId: row.job_id,
    proc: row.proc,
    relation: row.relation,
    totalFailures: Number(row.total_failures ?? 0),
    lastRunStartedAt: finiteOrNull(row.started),
    // The scheduler writes -infinity for "never".
    lastSuccessAt: finiteOrNull(row.succeeded),
    error: row.error,
    sqlState: row.sqlstate,
  }));
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
