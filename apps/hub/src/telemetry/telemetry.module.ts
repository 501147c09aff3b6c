import { Module } from '@nestjs/common';
import { type DatabaseClient, type DatabaseMode, TelemetryHistoryRepository } from '@telehub/db';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';
import { TelemetryController } from './telemetry.controller.js';
import { TelemetryHistoryService } from './telemetry-history.service.js';

/** Telemetry history: the REST API, and TelemetryHistoryService for the admin channel's snapshots. */
@Module({
  controllers: [TelemetryController],
  providers: [
    TelemetryHistoryService,
    {
      // Here rather than in DatabaseModule: it needs the database mode and the tiers' retention as well.
      provide: TelemetryHistoryRepository,
      useFactory: (client: DatabaseClient, mode: DatabaseMode, config: HubConfig) =>
        new TelemetryHistoryRepository(client, mode, config.retention),
      inject: [DATABASE_CLIENT, DATABASE_MODE, HUB_CONFIG],
    },
  ],
  exports: [TelemetryHistoryService],
})
export class TelemetryModule {}
