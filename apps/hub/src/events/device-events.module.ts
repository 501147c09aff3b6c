import { Module } from '@nestjs/common';
import { DeviceEventRecorder } from './device-event.recorder.js';

/** The device event log: auth, sessions, ingest and commands record why a device misbehaved in one place. */
@Module({
  providers: [DeviceEventRecorder],
  exports: [DeviceEventRecorder],
})
export class DeviceEventsModule {}
