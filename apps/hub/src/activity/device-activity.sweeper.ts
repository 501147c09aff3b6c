import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type ActivityTransition, DeviceActivityRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';

/** Devices flipped per statement; a backlog (the first start after an upgrade, downtime) takes several. */
const SWEEP_BATCH = 1_000;

/**
 * Finds devices whose activity began or lapsed, every TELEHUB_ACTIVITY_CHECK_INTERVAL_MS, and records the
 * transitions as `active`/`inactive` device events (with their reason) for the API and the dashboard. Several
 * hubs may sweep one database: each transition is flipped and recorded by exactly one statement of one of them.
 */
@Injectable()
export class DeviceActivitySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly activity: DeviceActivityRepository,
    private readonly hubEvents: HubEvents,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.activity.checkIntervalMs).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Records what changed since the last sweep. Overlapping calls share one sweep. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepAll().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepAll(): Promise<void> {
    const timeout = this.config.activity.inactivityTimeoutSeconds;
    try {
      await this.drain(() => this.activity.sweep(timeout, SWEEP_BATCH));
      if (this.failing) this.logger.info('device activity is checked again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: error }, 'could not check device activity; will try again');
      this.failing = true;
    }
  }

  private async drain(step: () => Promise<ActivityTransition[]>): Promise<void> {
    let transitions: ActivityTransition[];
    do {
      transitions = await step();
      for (const transition of transitions) {
        this.hubEvents.emit({
          type: 'device_event',
          deviceId: transition.deviceId,
          eventType: transition.active ? 'active' : 'inactive',
          detail: transition.detail,
          at: transition.time,
        });
      }
    } while (transitions.length === SWEEP_BATCH);
  }
}
