import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { type DatabaseClient, type DatabaseMode, deleteExpiredTelemetry } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';
import { LOGGER } from '../logging/logger.token.js';

const INTERVAL_MS = 60 * 60 * 1000;
const FIRST_RUN_DELAY_MS = 60 * 1000;

/**
 * Plain PostgreSQL has no retention jobs, so the hub deletes expired telemetry itself, hourly.
 * On TimescaleDB the retention policy (applied at start-up) drops whole chunks instead.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(DATABASE_CLIENT) private readonly database: DatabaseClient,
    @Inject(DATABASE_MODE) private readonly mode: DatabaseMode,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.mode !== 'postgresql' || this.config.retention.rawDays === 0) return;
    const run = () => void this.deleteExpired();
    this.timers.push(setTimeout(run, FIRST_RUN_DELAY_MS).unref(), setInterval(run, INTERVAL_MS).unref());
  }

  async deleteExpired(): Promise<number> {
    try {
      const deleted = await deleteExpiredTelemetry(this.database, this.config.retention.rawDays);
      if (deleted > 0)
        this.logger.info({ deleted, retentionDays: this.config.retention.rawDays }, 'expired telemetry deleted');
      return deleted;
    } catch (error) {
      this.logger.warn({ err: error }, 'retention: could not delete expired telemetry');
      return 0;
    }
  }

  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }
}
