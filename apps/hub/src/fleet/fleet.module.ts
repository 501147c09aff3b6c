import { Module } from '@nestjs/common';
import { type DatabaseClient, FleetRepository, NodeLeaseRepository } from '@telehub/db';
import { DATABASE_CLIENT } from '../database/database.tokens.js';
import { FleetController } from './fleet.controller.js';
import { FleetSummaryService } from './fleet-summary.service.js';

/** The fleet overview figures: the REST summary, and FleetSummaryService for the admin channel's push. */
@Module({
  controllers: [FleetController],
  providers: [
    FleetSummaryService,
    {
      provide: FleetRepository,
      useFactory: (client: DatabaseClient) => new FleetRepository(client),
      inject: [DATABASE_CLIENT],
    },
  ],
  exports: [FleetSummaryService],
})
export class FleetModule {}
