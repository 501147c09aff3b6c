import { Module } from '@nestjs/common';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { IngestService } from './ingest.service.js';

/** Telemetry and state from every transport: validation, the batching writers, acknowledgement after commit. */
@Module({
  imports: [DeviceEventsModule],
  providers: [IngestService],
  exports: [IngestService],
})
export class IngestModule {}
