import { Module } from '@nestjs/common';
import { DeviceAuthService } from './device-auth.service.js';

@Module({ providers: [DeviceAuthService], exports: [DeviceAuthService] })
export class DeviceAuthModule {}
