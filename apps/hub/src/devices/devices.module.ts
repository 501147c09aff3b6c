import { Module } from '@nestjs/common';
import { ClusterModule } from '../cluster/cluster.module.js';
import { DeviceAuthModule } from '../device-auth/device-auth.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DeviceEventLog } from './device-event-log.service.js';
import { DeviceListService } from './device-list.service.js';
import { DeviceSearchIndexCheck } from './device-search-index.check.js';
import { DeviceTokensController } from './device-tokens.controller.js';
import { DeviceTokensService } from './device-tokens.service.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';

@Module({
  imports: [DeviceAuthModule, DeviceSessionsModule, FleetModule, ClusterModule],
  controllers: [DevicesController, DeviceTokensController],
  providers: [DevicesService, DeviceTokensService, DeviceListService, DeviceEventLog, DeviceSearchIndexCheck],
  exports: [DevicesService],
})
export class DevicesModule {}
