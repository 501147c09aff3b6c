import { Module } from '@nestjs/common';
import { type DatabaseClient, type DatabaseMode, TelemetryHistoryRepository } from '@telehub/db';
import { DATABASE_CLIENT, DATABASE_MODE } from '../database/database.tokens.js';
import { TelemetryController } from './telemetry.controller.js';
import { TelemetryHistoryService } from './telemetry-history.service.js';

/** Telemetry history: the REST API, and TelemetryHistoryService for the admin channel's snapshots. */
@Module({
  controllers: [TelemetryController],
  providers: [
    TelemetryHistoryService,
    {
      // Here rather than in DatabaseModule: it needs the database mode as well as the client.
      provide: TelemetryHistoryRepository,
      useFactory: (client: DatabaseClient, mode: DatabaseMode) => new TelemetryHistoryRepository(client, mode),
      inject: [DATABASE_CLIENT, DATABASE_MODE],
    },
  ],
  exports: [TelemetryHistoryService],
})
export class TelemetryModule {}
