import { Module } from '@nestjs/common';
import { DeviceAuthModule } from '../device-auth/device-auth.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DeviceTokensController } from './device-tokens.controller.js';
import { DeviceTokensService } from './device-tokens.service.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';

@Module({
  imports: [DeviceAuthModule, DeviceSessionsModule],
  controllers: [DevicesController, DeviceTokensController],
  providers: [DevicesService, DeviceTokensService],
  exports: [DevicesService],
})
export class DevicesModule {}
