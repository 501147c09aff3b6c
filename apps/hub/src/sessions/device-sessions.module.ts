import { Module } from '@nestjs/common';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { DeviceConnectRate } from './device-connect-rate.js';
import { DevicePresence } from './device-presence.js';
import { FlowControl } from './flow-control.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { SessionTable } from './session-table.js';
import { TokenExpirySweeper } from './token-expiry.sweeper.js';

/** The live device sessions of this hub process: who is connected, how fast each is read, presence. */
@Module({
  imports: [DeviceEventsModule],
  providers: [SessionTable, FlowControl, DevicePresence, SessionLifecycle, DeviceConnectRate, TokenExpirySweeper],
  exports: [SessionTable, FlowControl, DevicePresence, SessionLifecycle, DeviceConnectRate, TokenExpirySweeper],
})
export class DeviceSessionsModule {}
