import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AdminInterestRepository, type WatchedDevice } from '@telehub/db';
import type { Logger } from 'pino';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { NodeIdentity } from '../common/node-identity.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';

interface Index {
  allPoints: boolean;
  allEvents: boolean;
  points: Set<string>;
  events: Set<string>;
}

const EMPTY: Index = { allPoints: false, allEvents: false, points: new Set(), events: new Set() };

/**
 * What the admin connections of the other hub processes watch (admin_interest), kept in memory: which devices'
 * live points and events this process sends them. Read at start, when a process announces a change (answered
 * with `admin_interest_seen` once known: see AdminInterestPublisher), after the bus reconnects, and every lease
 * time (so a lost process's interest, removed with its lease, is forgotten).
 */
@Injectable()
export class RemoteAdminInterest implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly byProcess = new Map<string, WatchedDevice[]>();
  private index: Index = EMPTY;
  /** Reads run one at a time, in order, so a later read's answer is never overwritten by an earlier one's. */
  private reading: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interest: AdminInterestRepository,
    private readonly bus: ClusterBus,
    private readonly identity: NodeIdentity,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.on('admin_interest_changed', ({ instance, version }) => {
      void this.read(async () => {
        this.set(instance, await this.interest.of(instance));
      }).then((known) => {
        // Not known (the read failed): no answer, so the other process does not count on it.
        if (known)
          void this.bus.publish({ kind: 'admin_interest_seen', from: this.identity.instanceId, to: instance, version });
      });
    });
    this.bus.onReconnect(() => void this.readAll());
    void this.readAll();
    this.timer = setInterval(() => void this.readAll(), this.config.cluster.leaseTtlMs).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Whether another process watches this device's live points. */
  wantsPoints(deviceId: string): boolean {
    return this.index.allPoints || this.index.points.has(deviceId);
  }

  /** Whether another process watches this device's presence, state and events. */
  wantsEvents(deviceId: string): boolean {
    return this.index.allEvents || this.index.events.has(deviceId);
  }

  /** Whether another process watches any live points at all (most batches need no look at their rows then). */
  get anyPoints(): boolean {
    return this.index.allPoints || this.index.points.size > 0;
  }

  private readAll(): Promise<boolean> {
    return this.read(async () => {
      const processes = await this.interest.others(this.identity.instanceId);
      this.byProcess.clear();
      for (const { instanceId, watched } of processes) this.byProcess.set(instanceId, watched);
      this.rebuild();
    });
  }

  /**
   * Runs `step` after the reads before it; resolves with whether it succeeded. A failure is logged (the next read
   * or the timer tries again).
   */
  private read(step: () => Promise<void>): Promise<boolean> {
    const done = this.reading.then(step).then(
      () => true,
      (error: unknown) => {
        this.logger.warn({ err: error }, 'could not read what other hubs’ admin connections watch');
        return false;
      },
    );
    this.reading = done.then(() => undefined);
    return done;
  }

  private set(instance: string, watched: WatchedDevice[]): void {
    if (watched.length === 0) this.byProcess.delete(instance);
    else this.byProcess.set(instance, watched);
    this.rebuild();
  }

  private rebuild(): void {
    const index: Index = { allPoints: false, allEvents: false, points: new Set(), events: new Set() };
    for (const watched of this.byProcess.values()) {
      for (const { deviceId, points, events } of watched) {
        if (deviceId === null) {
          index.allPoints ||= points;
          index.allEvents ||= events;
          continue;
        }
        if (points) index.points.add(deviceId);
        if (events) index.events.add(deviceId);
      }
    }
    this.index = index;
  }
}
