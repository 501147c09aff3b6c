import { Module } from '@nestjs/common';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { CommandService } from './command.service.js';
import { CommandDeliveryService } from './command-delivery.service.js';
import { CommandExpirySweeper } from './command-expiry.sweeper.js';
import { CommandsController } from './commands.controller.js';

/** Control commands: the REST API, the outbox delivery to connected devices, and expiry. */
@Module({
  imports: [DeviceSessionsModule, DeviceEventsModule],
  controllers: [CommandsController],
  providers: [CommandService, CommandDeliveryService, CommandExpirySweeper],
  exports: [CommandService, CommandDeliveryService],
})
export class CommandsModule {}
