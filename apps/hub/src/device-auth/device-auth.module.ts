import { Module } from '@nestjs/common';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DeviceAuthService } from './device-auth.service.js';

// The recorder lives with the sessions; auth needs it to keep refusals in the device event log.
@Module({
  imports: [DeviceSessionsModule, AuthThrottleModule],
  providers: [DeviceAuthService],
  exports: [DeviceAuthService],
})
export class DeviceAuthModule {}
