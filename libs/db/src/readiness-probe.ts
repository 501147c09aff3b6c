import { createDatabaseClient, type DatabaseClient } from './client.js';
import { countApplied } from './migrate.js';
import { type FailingJob, failingJobs } from './timescale-jobs.js';

export interface ReadinessProbeOptions {
  /** A check that has no answer after this long reports `timeout`; connecting and the statement share it. */
  timeoutMs: number;
  applicationName?: string;
  /** Also list TimescaleDB's failing background jobs (TimescaleDB mode only). */
  timescaleJobs?: boolean;
}

export type ReadinessResult =
  | { ok: true; appliedMigrations: number; failingJobs?: FailingJob[] }
  | { ok: false; reason: 'timeout'; detail: string }
  | { ok: false; reason: 'error'; detail: string };

/**
 * Readiness's own connection to the database. It is never the pool's: when the database hangs or a lock stalls
 * ingest, the pool's connections are all busy and every query queues behind them, so a probe on the pool
 * answers only once the database is back. One connection, and every check bounded by `timeoutMs`.
 */
export class ReadinessProbe {
  private client: DatabaseClient | undefined;
  private running: Promise<ReadinessResult> | undefined;

  constructor(
    private readonly url: string,
    readonly options: ReadinessProbeOptions,
  ) {}

  /** Whether the database answers, and how many migrations it has applied. Never throws. */
  check(): Promise<ReadinessResult> {
    // Probes that arrive during a check share its answer: against a hanging database a burst of probes
    // costs one connection attempt, not one each.
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close(0);
  }

  private async run(): Promise<ReadinessResult> {
    const { timeoutMs } = this.options;
    this.client ??= createDatabaseClient(this.url, {
      maxConnections: 1,
      applicationName: this.options.applicationName ?? 'telehub-readiness',
      connectTimeoutMs: timeoutMs,
      statementTimeoutMs: timeoutMs,
    });
    const client = this.client;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const tooLate = {
      ok: false,
      reason: 'timeout',
      detail: `the database did not answer within ${timeoutMs} ms`,
    } as const;
    try {
      const answer = await Promise.race([this.query(client), timedOut]);
      if (answer !== 'timeout') return { ok: true, ...answer };
      // The statement may wait on a socket that never answers; the next check must not queue behind it.
      this.discard(client);
      return tooLate;
    } catch (error) {
      this.discard(client);
      // The server's statement_timeout (57014) and the driver's connect timeout are the same deadline, met first.
      const code = (error as { code?: string }).code;
      if (code === '57014' || code === 'CONNECT_TIMEOUT') return tooLate;
      return { ok: false, reason: 'error', detail: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  private async query(client: DatabaseClient): Promise<{ appliedMigrations: number; failingJobs?: FailingJob[] }> {
    const appliedMigrations = await countApplied(client);
    if (!this.options.timescaleJobs) return { appliedMigrations };
    return { appliedMigrations, failingJobs: await failingJobs(client.sql) };
  }

  private discard(client: DatabaseClient): void {
    if (this.client === client) this.client = undefined;
    // Destroys the connection at once; the abandoned statement rejects into the settled race above.
    client.close(0).catch(() => undefined);
  }
}
