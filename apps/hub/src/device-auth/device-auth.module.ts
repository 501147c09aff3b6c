import { Module } from '@nestjs/common';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { DeviceAuthService } from './device-auth.service.js';

@Module({
  imports: [DeviceEventsModule, AuthThrottleModule],
  providers: [DeviceAuthService],
  exports: [DeviceAuthService],
})
export class DeviceAuthModule {}
