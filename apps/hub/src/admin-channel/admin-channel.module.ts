import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { CommandsModule } from '../commands/commands.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { TransportsModule } from '../transports/transports.module.js';
import { AdminChannelGateway } from './admin-channel.gateway.js';
import { AdminChannelAuth } from './admin-channel-auth.js';
import { AdminFanoutService } from './admin-fanout.service.js';
import { SubscriptionSnapshotService } from './subscription-snapshot.service.js';

/**
 * The admin WebSocket channel: live telemetry, presence, state, events and commands for the dashboard. From
 * TransportsModule it needs only UpgradeRouter, the owner of the HTTP server's 'upgrade' event.
 */
@Module({
  imports: [AdminAuthModule, AuthThrottleModule, CommandsModule, FleetModule, TelemetryModule, TransportsModule],
  providers: [AdminChannelGateway, AdminChannelAuth, AdminFanoutService, SubscriptionSnapshotService],
})
export class AdminChannelModule {}
