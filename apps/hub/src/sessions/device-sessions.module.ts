import { Module } from '@nestjs/common';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { IngestService } from '../ingest/ingest.service.js';
import { DeviceSessionRegistry } from './device-session.registry.js';

/** Live sessions, ingest and the device event log: what every transport hands device traffic to. */
@Module({
  providers: [DeviceEventRecorder, DeviceSessionRegistry, IngestService],
  exports: [DeviceEventRecorder, DeviceSessionRegistry, IngestService],
})
export class DeviceSessionsModule {}
