import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CommandRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';

/** Rows expired per statement; a backlog (after downtime) is worked off in several. */
const SWEEP_BATCH = 500;

/**
 * Marks commands whose time-to-live passed before a result `expired`, every TELEHUB_COMMAND_SWEEP_INTERVAL_MS.
 * Several hubs may sweep the same database: each statement skips rows another one holds, so none is done twice.
 */
@Injectable()
export class CommandExpirySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly commands: CommandRepository,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.commands.sweepIntervalMs).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Expires what is due. Overlapping calls share one sweep. */
  sweep(): Promise<void> {
    this.sweeping ??= this.expireAll().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async expireAll(): Promise<void> {
    try {
      let expired: number;
      do {
        expired = (await this.commands.expireDue(SWEEP_BATCH)).length;
      } while (expired === SWEEP_BATCH);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not expire commands; will try again');
    }
  }
}
