import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  AGGREGATE_VIEWS,
  type DatabaseClient,
  type DatabaseMode,
  refreshAggregates,
  runRefreshPolicies,
  tierHorizon,
} from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';

/** Rows older than this were written below the aggregates' refresh window: they invalidated materialized buckets. */
const LATE_AFTER_MS = Math.max(...AGGREGATE_VIEWS.map((view) => view.endOffsetMs));

/**
 * Keeps the continuous aggregates close to the raw rows (TimescaleDB mode). Their refresh policies do it too,
 * every minute (1 minute) and every 30 minutes (1 hour); this shortens the wait after the two moments the
 * policies leave a gap:
 * - at start-up, once, in the background: the refresh policies run (CALL run_job: their window, the raw retention,
 *   and their batches), so aggregates created empty by a migration or a conversion get filled at once (cheap when
 *   they are up to date: only invalidated buckets are re-materialized);
 * - after rows older than the refresh window are committed (devices that buffered while offline, backfills):
 *   the buckets they touched are refreshed after TELEHUB_AGGREGATE_REFRESH_DELAY_MS, late rows of that delay
 *   together in one window.
 * History answers are right meanwhile either way (stale buckets are read from raw rows); this keeps them cheap.
 */
@Injectable()
export class AggregateRefresher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private pending: { fromMs: number; toMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(DATABASE_CLIENT) private readonly database: DatabaseClient,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly events: HubEvents,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'aggregates' });
  }

  onApplicationBootstrap(): void {
    if (this.mode !== 'timescaledb') return;
    this.unsubscribe = this.events.on('telemetry', (event) => this.noteBatch(event.batch.times));
    this.running = this.running.then(async () => {
      try {
        const took = await runRefreshPolicies(this.database);
        this.log.info({ tookMs: took }, 'continuous aggregates refreshed at start-up');
      } catch (error) {
        this.log.warn({ err: error }, 'could not refresh the continuous aggregates at start-up (their policies will)');
      }
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.running;
  }

  /** Resolves when every refresh started so far has finished (tests). */
  idle(): Promise<void> {
    return this.running;
  }

  private noteBatch(times: readonly number[]): void {
    const lateBefore = Date.now() - LATE_AFTER_MS;
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const time of times) {
      if (time >= lateBefore) continue;
      if (time < low) low = time;
      if (time > high) high = time;
    }
    if (low > high) return;
    this.pending = this.pending
      ? { fromMs: Math.min(this.pending.fromMs, low), toMs: Math.max(this.pending.toMs, high + 1) }
      : { fromMs: low, toMs: high + 1 };
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const window = this.pending!;
      this.pending = undefined;
      // Whole hours: the coarsest aggregate's buckets around the late rows.
      const hour = 3_600_000;
      this.enqueue(
        { fromMs: Math.floor(window.fromMs / hour) * hour, toMs: Math.ceil(window.toMs / hour) * hour },
        'late rows',
      );
    }, this.config.timescale.aggregateRefreshDelayMs).unref();
  }

  /** One refresh at a time: concurrent ones on the same aggregate would only wait for each other's locks. */
  private enqueue(window: { fromMs: number; toMs: number }, reason: string): void {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      // Never below the raw retention: there the raw rows are gone and the aggregate is all that is kept.
      const fromMs = Math.max(window.fromMs, tierHorizon('raw', this.config.retention, Date.now()));
      if (fromMs >= window.toMs) return;
      try {
        const took = await refreshAggregates(this.database, { fromMs, toMs: window.toMs });
        this.log.debug({ reason, fromMs, toMs: window.toMs, tookMs: took }, 'continuous aggregates refreshed');
      } catch (error) {
        this.log.warn({ err: error, reason }, 'could not refresh the continuous aggregates (their policies will)');
      }
    });
  }
}
