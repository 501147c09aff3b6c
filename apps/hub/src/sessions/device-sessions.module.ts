import { Module } from '@nestjs/common';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { IngestService } from '../ingest/ingest.service.js';
import { DeviceConnectRate } from './device-connect-rate.js';
import { DeviceSessionRegistry } from './device-session.registry.js';

/** Live sessions and ingest: what every transport hands device traffic to. */
@Module({
  imports: [DeviceEventsModule],
  providers: [DeviceSessionRegistry, IngestService, DeviceConnectRate],
  exports: [DeviceSessionRegistry, IngestService, DeviceConnectRate],
})
export class DeviceSessionsModule {}
