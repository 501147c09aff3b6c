import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MqttSessionRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';

/** Sessions deleted per statement; a backlog (after downtime) is worked off in several. */
const SWEEP_BATCH = 500;

/**
 * Deletes MQTT sessions whose expiry has passed, every TELEHUB_MQTT_SESSION_SWEEP_INTERVAL_MS. Several hubs may
 * sweep the same database: each statement skips rows another one holds. An expired session that was not swept yet
 * is never resumed either (the hub checks the expiry when the device reconnects).
 */
@Injectable()
export class MqttSessionExpirySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly sessions: MqttSessionRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.mqtt.sessionSweepIntervalMs).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Releases the sessions of hub processes lost since (their expiry starts), then deletes what has expired.
   * Overlapping calls share one sweep.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.deleteAll().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async deleteAll(): Promise<void> {
    try {
      const released = await this.sessions.releaseOrphans();
      if (released > 0) this.logger.info({ sessions: released }, 'MQTT sessions held by lost hub processes released');
      let deleted: number;
      do {
        deleted = (await this.sessions.deleteExpired(SWEEP_BATCH)).length;
        if (deleted > 0) this.logger.debug({ sessions: deleted }, 'expired MQTT sessions deleted');
      } while (deleted === SWEEP_BATCH);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not delete expired MQTT sessions; will try again');
    }
  }
}
