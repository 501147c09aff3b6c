import { Writable } from 'node:stream';
import { createDatabaseClient, type DatabaseClient, failingJobs, ReadinessProbe, runMigrations } from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/hub-config.js';
import { HubMetrics } from '../src/metrics/hub-metrics.js';
import { JobHealthMonitor } from '../src/timescale/job-health.monitor.js';

// Issue 12, item 4: a TimescaleDB job that fails is reported in /readyz (the probe's connection), as a metric and
// as a warning in the log. A job is made to fail on purpose: a real job, really run (CALL run_job), that raises.
describe('failing TimescaleDB jobs', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;
  let jobId: number;
  let runError: string;

  beforeAll(async () => {
    server = await startTimescalePglite();
    client = createDatabaseClient(server.url, { maxConnections: 1 });
    await runMigrations(client);
    await client.sql`
      CREATE PROCEDURE failing_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'disk quota exceeded (on purpose)' USING ERRCODE = '53100'; END $$`;
    const [job] = await client.sql<{ id: number }[]>`SELECT add_job('failing_job', INTERVAL '1 hour') AS id`;
    jobId = job!.id;
    runError = await client.sql`CALL run_job(${jobId}::int)`.then(
      () => 'no error',
      (error: Error) => error.message,
    );
    // TimescaleDB's scheduler records a failed run in job_stats and job_errors; PGlite has no background workers
    // and run_job in a session records nothing, so the test writes what the scheduler writes after this run.
    await client.sql`DELETE FROM _timescaledb_internal.bgw_job_stat WHERE job_id = ${jobId}`;
    await client.sql`
      INSERT INTO _timescaledb_internal.bgw_job_stat (job_id, last_start, last_finish, next_start,
        last_successful_finish, last_run_success, total_runs, total_duration, total_duration_failures,
        total_successes, total_failures, total_crashes, consecutive_failures, consecutive_crashes, flags)
      VALUES (${jobId}, now() - interval '2 seconds', now() - interval '1 second', now() + interval '5 minutes',
        '-infinity', false, 3, interval '3 seconds', interval '3 seconds', 0, 3, 0, 3, 0, 0)`;
    await client.sql`
      INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, pid, execution_start, execution_finish,
        succeeded, data)
      VALUES (${jobId}, 4242, now() - interval '2 seconds', now() - interval '1 second', false,
        jsonb_build_object('job', jsonb_build_object('proc_schema', 'public', 'proc_name', 'failing_job'),
          'error_data', jsonb_build_object('message', ${runError}::text, 'sqlerrcode', '53100')))`;
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('lists the job whose last run failed, with its error', async () => {
    expect(runError).toMatch(/on purpose/);
    expect(await failingJobs(client.sql)).toEqual([
      expect.objectContaining({
        jobId,
        proc: 'failing_job',
        relation: null,
        totalFailures: 3,
        lastSuccessAt: null,
        error: expect.stringMatching(/disk quota exceeded \(on purpose\)/),
        sqlState: '53100',
      }),
    ]);
  });

  it('names it in the readiness check, on the probe connection', async () => {
    // PGlite is one session: the probe takes it while the test's client is closed.
    await client.close();
    const probe = new ReadinessProbe(server.url, { timeoutMs: 5000, timescaleJobs: true });
    try {
      const result = await probe.check();
      expect(result).toMatchObject({ ok: true, failingJobs: [expect.objectContaining({ jobId, sqlState: '53100' })] });
    } finally {
      await probe.close();
      client = createDatabaseClient(server.url, { maxConnections: 1 });
    }
  });

  it('exports it as metrics and logs one warning per new failure', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const metrics = new HubMetrics();
    const monitor = new JobHealthMonitor(client, 'timescaledb', loadConfig({}), metrics, logger);
    expect(await monitor.check()).toHaveLength(1);
    await monitor.check();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^telehub_timescaledb_jobs_failing 1$/m);
    expect(text).toContain(`telehub_timescaledb_job_failures{job_id="${jobId}",job="failing_job",relation=""} 3`);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      `TimescaleDB job ${jobId} (failing_job) failed: disk quota exceeded (on purpose)`,
    ]);

    // It runs again successfully: no longer failing, and the log says so.
    await client.sql`UPDATE _timescaledb_internal.bgw_job_stat SET last_run_success = true, total_successes = 1,
      last_successful_finish = now() WHERE job_id = ${jobId}`;
    expect(await monitor.check()).toEqual([]);
    expect(await metrics.registry.metrics()).toMatch(/^telehub_timescaledb_jobs_failing 0$/m);
    expect(lines.at(-1)?.msg).toBe(`TimescaleDB job ${jobId} runs again`);
  });
});
