import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AdminInterestRepository, NodeLeaseRepository, type WatchedDevice } from '@telehub/db';
import type { Logger } from 'pino';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import type { LiveSubscription } from './live-subscription.js';

/** Wait before writing again after a failed write. */
const RETRY_MS = 1_000;

/**
 * Tells the other hub processes what this one's admin subscriptions watch, so they send it those devices' live
 * points and events (and nothing else): written to admin_interest, announced on the cluster bus.
 *
 * Why a new subscription waits for the others to answer before its snapshot is read (update() resolves then):
 * a process sends a batch's points only if, when the batch's commit reached its event stream, it already knew the
 * interest. A process answers `admin_interest_seen` only after it knows it, so any batch it did not send committed
 * before its answer, and the answer before the snapshot started: the snapshot includes that batch. Every batch it
 * did send reaches the subscription, registered before the interest was written, and the subscription keeps the
 * points of those not in its snapshot (by transaction id, as for its own process's batches). So every committed
 * point is in the snapshot or live, once, wherever the device is. Only waiting for the notice's echo would not
 * do: a process is handed a notice before it has read it, and may commit and not send a batch meanwhile.
 */
@Injectable()
export class AdminInterestPublisher implements OnApplicationBootstrap, OnModuleDestroy {
  private watched: WatchedDevice[] = [];
  /** The watched list as last written (sorted JSON); undefined: write at the next chance. */
  private written: string | undefined = '[]';
  private version = 0;
  /** The publication under way, and the one queued behind it (it takes the latest list when it starts). */
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  /** Per other process, the highest version it has answered. */
  private readonly seen = new Map<string, number>();
  private waiters: { version: number; pending: Set<string>; done: () => void }[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly interest: AdminInterestRepository,
    private readonly leases: NodeLeaseRepository,
    private readonly bus: ClusterBus,
    private readonly identity: NodeIdentity,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.on('admin_interest_seen', (message) => {
      if (message.to !== this.identity.instanceId) return;
      this.seen.set(message.from, Math.max(this.seen.get(message.from) ?? 0, message.version));
      this.settleWaiters();
    });
    // Notices sent while the listening connection was down were lost, and rows may have gone with a lapsed lease.
    this.bus.onReconnect(() => {
      this.written = undefined;
      void this.publish();
    });
    // A process declared lost (stalled longer than its lease) takes a new lease, but its rows went with the old.
    this.checkTimer = setInterval(() => void this.checkRows(), this.config.cluster.leaseTtlMs).unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.checkTimer);
    for (const waiter of this.waiters) waiter.done();
    this.waiters = [];
  }

  /**
   * The subscriptions of this process changed. Resolves once the other live processes know what they watch
   * now (or after TELEHUB_ADMIN_CLUSTER_INTEREST_WAIT_MS); never rejects.
   */
  update(subscriptions: Iterable<LiveSubscription>): Promise<void> {
    this.watched = watchedBy(subscriptions);
    return this.publish();
  }

  private publish(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.write();
    });
    this.running = this.queued;
    return this.queued;
  }

  private async write(): Promise<void> {
    const watched = this.watched;
    const text = JSON.stringify(watched);
    // Unchanged: the publication that wrote it has already been confirmed (it ran before this one).
    if (text === this.written) return;
    const version = ++this.version;
    try {
      await this.interest.replace(this.identity.instanceId, watched);
      this.written = text;
      const others = (await this.leases.live())
        .map((node) => node.instanceId)
        .filter((id) => id !== this.identity.instanceId);
      // No other process yet: one that takes its lease after this read, reads the rows written before it at start.
      if (others.length === 0) return;
      const confirmed = this.confirmedBy(others, version);
      await this.bus.publish({ kind: 'admin_interest_changed', instance: this.identity.instanceId, version });
      await confirmed;
    } catch (error) {
      this.written = undefined;
      this.logger.warn({ err: error }, 'could not record what admin connections watch; other hubs may not send it');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.publish(), RETRY_MS).unref();
    }
  }

  /** Writes the rows again when they are not all there (with a lease taken anew, they were removed). */
  private async checkRows(): Promise<void> {
    if (this.written === undefined || this.watched.length === 0) return;
    try {
      const rows = await this.interest.of(this.identity.instanceId);
      if (rows.length === this.watched.length) return;
      this.logger.info('admin subscriptions of this process were no longer recorded: recording them again');
      this.written = undefined;
      void this.publish();
    } catch (error) {
      this.logger.debug({ err: error }, 'could not check the recorded admin subscriptions');
    }
  }

  /** Resolves once each of `others` answered `version` or later, or after the wait setting. */
  private confirmedBy(others: string[], version: number): Promise<void> {
    const pending = new Set(others.filter((id) => (this.seen.get(id) ?? 0) < version));
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        this.logger.warn(
          { processes: [...entry.pending], waitedMs: this.config.adminChannel.clusterInterestWaitMs },
          'hub processes did not confirm an admin subscription in time: live points from their devices may have a gap',
        );
        resolve();
      }, this.config.adminChannel.clusterInterestWaitMs);
      timer.unref();
      const entry = {
        version,
        pending,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(entry);
    });
  }

  private settleWaiters(): void {
    this.waiters = this.waiters.filter((waiter) => {
      for (const id of waiter.pending) if ((this.seen.get(id) ?? 0) >= waiter.version) waiter.pending.delete(id);
      if (waiter.pending.size > 0) return true;
      waiter.done();
      return false;
    });
  }
}

/** One row per device (null: every device), points and events each wanted by any subscription; sorted. */
export function watchedBy(subscriptions: Iterable<LiveSubscription>): WatchedDevice[] {
  const rows = new Map<string | null, WatchedDevice>();
  for (const subscription of subscriptions) {
    for (const deviceId of subscription.deviceIds ?? [null]) {
      const row = rows.get(deviceId) ?? { deviceId, points: false, events: false };
      row.points ||= subscription.wantsPoints;
      row.events ||= subscription.events;
      rows.set(deviceId, row);
    }
  }
  return [...rows.values()].sort((a, b) => (a.deviceId ?? '').localeCompare(b.deviceId ?? ''));
}
