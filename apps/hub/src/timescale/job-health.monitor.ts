import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type DatabaseClient, type DatabaseMode, type FailingJob, failingJobs } from '@telehub/db';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';

/**
 * Watches TimescaleDB's background jobs (compression, retention, aggregate refreshes), which fail silently on
 * the server's side: every TELEHUB_TIMESCALE_JOB_CHECK_MS it reads which jobs' last run failed, exports them as
 * `telehub_timescaledb_jobs_failing` and `telehub_timescaledb_job_failures{job_id,job,relation}`, and logs a
 * warning for each newly failing job (and when it runs again). /readyz lists them too, on its own connection.
 */
@Injectable()
export class JobHealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly failing: Gauge;
  private readonly failures: Gauge;
  private timer: NodeJS.Timeout | undefined;
  /** Failing jobs by id, with the failure count last seen. */
  private known = new Map<number, number>();

  constructor(
    @Inject(DATABASE_CLIENT) private readonly database: DatabaseClient,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    metrics: HubMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'timescaledb-jobs' });
    this.failing = new Gauge({
      name: 'telehub_timescaledb_jobs_failing',
      help: 'TimescaleDB background jobs whose last run failed (compression, retention, aggregate refresh)',
      registers: [metrics.registry],
      // Every worker reads the same jobs: with TELEHUB_WORKERS one's figure is the machine's, not the sum.
      aggregator: 'max',
    });
    this.failures = new Gauge({
      name: 'telehub_timescaledb_job_failures',
      help: 'Failed runs of each failing TimescaleDB job, as its scheduler counts them',
      labelNames: ['job_id', 'job', 'relation'],
      registers: [metrics.registry],
      aggregator: 'max',
    });
  }

  onApplicationBootstrap(): void {
    if (this.mode !== 'timescaledb') return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.config.timescale.jobCheckIntervalMs).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Reads the failing jobs and updates the metrics and the log. Never throws. */
  async check(): Promise<FailingJob[]> {
    let jobs: FailingJob[];
    try {
      jobs = await failingJobs(this.database.sql);
    } catch (error) {
      this.log.debug({ err: error }, 'could not read the TimescaleDB job stats');
      return [];
    }
    this.failing.set(jobs.length);
    this.failures.reset();
    const seen = new Map<number, number>();
    for (const job of jobs) {
      this.failures.set({ job_id: String(job.jobId), job: job.proc, relation: job.relation ?? '' }, job.totalFailures);
      seen.set(job.jobId, job.totalFailures);
      if (this.known.get(job.jobId) !== job.totalFailures) {
        this.log.warn(
          { job },
          `TimescaleDB job ${job.jobId} (${job.proc}${job.relation ? ` on ${job.relation}` : ''}) failed: ${job.error ?? 'see the server log'}`,
        );
      }
    }
    for (const jobId of this.known.keys()) {
      if (!seen.has(jobId)) this.log.info({ jobId }, `TimescaleDB job ${jobId} runs again`);
    }
    this.known = seen;
    return jobs;
  }
}
