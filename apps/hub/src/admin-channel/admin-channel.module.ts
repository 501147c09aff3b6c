import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { CommandsModule } from '../commands/commands.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { TransportsModule } from '../transports/transports.module.js';
import { AdminChannelService } from './admin-channel.service.js';
import { SubscriptionSnapshotService } from './subscription-snapshot.service.js';

/** The admin WebSocket channel: live telemetry, presence, state, events and commands for the dashboard. */
@Module({
  imports: [AdminAuthModule, AuthThrottleModule, CommandsModule, FleetModule, TelemetryModule, TransportsModule],
  providers: [AdminChannelService, SubscriptionSnapshotService],
})
export class AdminChannelModule {}
