import { Module } from '@nestjs/common';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DeviceAuthService } from './device-auth.service.js';

// The recorder lives with the sessions; auth needs it to keep refusals in the device event log.
@Module({ imports: [DeviceSessionsModule], providers: [DeviceAuthService], exports: [DeviceAuthService] })
export class DeviceAuthModule {}
