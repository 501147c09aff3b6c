import postgres from 'postgres';

/** What the sampled backends were doing: samples of an active backend, and of those how many waited on a lock. */
export interface WaitShares {
  activeSamples: number;
  lockSamples: number;
  /** `wait_event_type/wait_event` → samples, for the active backends (CPU when not waiting: "running"). */
  events: Record<string, number>;
}

const SAMPLE_INTERVAL_MS = 20;

/**
 * Samples pg_stat_activity every 20 ms for one database's writers: how much of their time concurrent batches
 * spend waiting on each other's locks (`Lock/transactionid`: a device_latest row another transaction holds).
 * Only backends running a statement count; "idle in transaction" (waiting for the client) is not theirs to wait.
 */
export class WaitSampler {
  private readonly sql;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<unknown> = Promise.resolve();
  private shares: WaitShares = { activeSamples: 0, lockSamples: 0, events: {} };

  constructor(
    url: string,
    private readonly applicationName: string,
  ) {
    this.sql = postgres(url, {
      max: 1,
      onnotice: () => undefined,
      connection: { application_name: 'telehub-bench-waits' },
    });
  }

  start(): void {
    this.shares = { activeSamples: 0, lockSamples: 0, events: {} };
    this.timer = setInterval(() => {
      this.sampling = this.sample().catch(() => undefined);
    }, SAMPLE_INTERVAL_MS);
  }

  async stop(): Promise<WaitShares> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
    return this.shares;
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.sql.end({ timeout: 5 });
  }

  private async sample(): Promise<void> {
    const rows = await this.sql<{ type: string | null; event: string | null }[]>`
      SELECT wait_event_type AS type, wait_event AS event FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${this.applicationName} AND state = 'active'`;
    for (const row of rows) {
      const key = row.type ? `${row.type}/${row.event}` : 'running';
      this.shares.activeSamples += 1;
      if (row.type === 'Lock') this.shares.lockSamples += 1;
      this.shares.events[key] = (this.shares.events[key] ?? 0) + 1;
    }
  }
}
