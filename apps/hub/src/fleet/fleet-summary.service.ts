import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { FleetSummary } from '@telehub/contracts';
import { type CommitRates, type FleetCounts, FleetRepository, NodeLeaseRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { RateWindow } from './rate-window.js';
import { SharedCount } from './shared-count.js';

/** "Over the last minute", as the fleet overview states its rates. */
const RATE_WINDOW_SECONDS = 60;
/**
 * Counting the fleet reads every device row; the overview pushes the counts every second, and the device list's
 * unfiltered totals are the same counts: callers within a second share one count.
 */
const COUNTS_MAX_AGE_MS = 1000;
/**
 * The device list answers with the last count while the next runs, unless it is older than this (a hub nobody
 * asked for a while): at 100,000 devices on a loaded machine a count took 0.2–0.5 s, every list page waited
 * for one each second, and its p99 was that count's time.
 */
const COUNTS_SERVE_STALE_MS = 5000;

/**
 * Devices, devices online, and the telemetry the fleet committed per second (messages and rows): this process's
 * counted from the event stream in per-second slots, the other hub processes' as they last recorded theirs in
 * hub_nodes (every TELEHUB_NODE_LEASE_RENEW_MS, beside their lease). The admin channel reads it every second.
 */
@Injectable()
export class FleetSummaryService implements OnModuleInit, OnModuleDestroy {
  private readonly messages = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly rows = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly unsubscribe: () => void;
  private readonly fleetCounts: SharedCount<FleetCounts>;
  /** The other live hub processes' rates, as of the last exchange. */
  private others: CommitRates = { messagesPerSecond: 0, rowsPerSecond: 0 };
  private timer: NodeJS.Timeout | undefined;
  private sharing: Promise<void> | undefined;

  constructor(
    private readonly fleet: FleetRepository,
    private readonly leases: NodeLeaseRepository,
    private readonly identity: NodeIdentity,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    events: HubEvents,
  ) {
    this.fleetCounts = new SharedCount(() => this.fleet.counts(), {
      maxAgeMs: COUNTS_MAX_AGE_MS,
      staleMs: COUNTS_SERVE_STALE_MS,
    });
    this.unsubscribe = events.on('telemetry', (event) => {
      this.messages.add(event.messages ?? 0, event.committedAt);
      this.rows.add(event.batch.times.length, event.committedAt);
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.sharing ??= this.shareRates().finally(() => {
        this.sharing = undefined;
      });
    }, this.config.cluster.leaseRenewMs).unref();
  }

  /** Committed per second over the last minute by this process; no database read. */
  localRates(now = Date.now()): CommitRates {
    return { messagesPerSecond: this.messages.perSecond(now), rowsPerSecond: this.rows.perSecond(now) };
  }

  /** Committed per second over the last minute by every hub process on the database; no database read. */
  rates(now = Date.now()): Pick<FleetSummary, 'messagesPerSecond' | 'rowsPerSecond'> {
    const local = this.localRates(now);
    return {
      messagesPerSecond: local.messagesPerSecond + this.others.messagesPerSecond,
      rowsPerSecond: local.rowsPerSecond + this.others.rowsPerSecond,
    };
  }

  /** Tells the others this process's rates and learns theirs. A failure keeps the last figures known. */
  private async shareRates(): Promise<void> {
    try {
      this.others = await this.leases.shareRates(this.identity.instanceId, this.localRates());
    } catch (error) {
      this.logger.debug({ err: error }, 'could not exchange telemetry rates with the other hub processes');
    }
  }

  async summary(): Promise<FleetSummary> {
    return { ...(await this.counts()), ...this.rates() };
  }

  /** Devices, connected (online) and active without a session, at most COUNTS_MAX_AGE_MS old. */
  async counts(): Promise<FleetCounts> {
    return this.fleetCounts.fresh();
  }

  /**
   * The same counts without waiting for a recount: the last one (begun at most COUNTS_MAX_AGE_MS plus one
   * count's duration ago while someone asks every second), a new one behind it.
   */
  async recentCounts(): Promise<FleetCounts> {
    return this.fleetCounts.recent();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe();
    await this.sharing;
  }
}
