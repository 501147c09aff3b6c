import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { FleetSummary } from '@telehub/contracts';
import { type CommitRates, type FleetCounts, FleetRepository, NodeLeaseRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { RateWindow } from './rate-window.js';

/** "Over the last minute", as the fleet overview states its rates. */
const RATE_WINDOW_SECONDS = 60;
/**
 * Counting the fleet reads every device row; the overview pushes the counts every second, and the device list's
 * unfiltered totals are the same counts: callers within a second share one count.
 */
const COUNTS_MAX_AGE_MS = 1000;

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
  /** Callers asking at the same moment share one database read… */
  private counting: Promise<FleetCounts> | undefined;
  /** …and callers within COUNTS_MAX_AGE_MS of it, its result. */
  private counted: { at: number; counts: FleetCounts } | undefined;
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
    const startedAt = Date.now();
    if (this.counted && startedAt - this.counted.at < COUNTS_MAX_AGE_MS) return this.counted.counts;
    this.counting ??= this.fleet
      .counts()
      .then((counts) => {
        this.counted = { at: startedAt, counts };
        return counts;
      })
      .finally(() => {
        this.counting = undefined;
      });
    return this.counting;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe();
    await this.sharing;
  }
}
