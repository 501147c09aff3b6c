import { Module } from '@nestjs/common';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { IngestService } from '../ingest/ingest.service.js';
import { DeviceConnectRate } from './device-connect-rate.js';
import { DeviceSessionRegistry } from './device-session.registry.js';

/** Live sessions, ingest and the device event log: what every transport hands device traffic to. */
@Module({
  providers: [DeviceEventRecorder, DeviceSessionRegistry, IngestService, DeviceConnectRate],
  exports: [DeviceEventRecorder, DeviceSessionRegistry, IngestService, DeviceConnectRate],
})
export class DeviceSessionsModule {}
