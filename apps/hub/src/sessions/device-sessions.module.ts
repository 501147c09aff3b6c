import { Module } from '@nestjs/common';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { DeviceConnectRate } from './device-connect-rate.js';
import { DeviceSessionRegistry } from './device-session.registry.js';

/** The live device sessions of this hub process. */
@Module({
  imports: [DeviceEventsModule],
  providers: [DeviceSessionRegistry, DeviceConnectRate],
  exports: [DeviceSessionRegistry, DeviceConnectRate],
})
export class DeviceSessionsModule {}
