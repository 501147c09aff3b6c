import { Module } from '@nestjs/common';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { CommandsModule } from '../commands/commands.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { TransportsModule } from '../transports/transports.module.js';
import { AdminChannelGateway } from './admin-channel.gateway.js';
import { AdminChannelAuth } from './admin-channel-auth.js';
import { AdminClusterForwarder } from './admin-cluster.forwarder.js';
import { AdminClusterReceiver } from './admin-cluster.receiver.js';
import { AdminFanoutService } from './admin-fanout.service.js';
import { AdminInterestPublisher } from './admin-interest.publisher.js';
import { RemoteAdminInterest } from './remote-admin-interest.js';
import { SubscriptionSnapshotService } from './subscription-snapshot.service.js';

/**
 * The admin WebSocket channel: live telemetry, presence, state, events and commands for the dashboard, of the
 * devices on any hub process (what admins watch crosses the cluster bus, from ClusterModule). From
 * TransportsModule it needs only UpgradeRouter, the owner of the HTTP server's 'upgrade' event.
 */
@Module({
  imports: [
    AdminAuthModule,
    AuthThrottleModule,
    ClusterModule,
    CommandsModule,
    FleetModule,
    TelemetryModule,
    TransportsModule,
  ],
  providers: [
    AdminChannelGateway,
    AdminChannelAuth,
    AdminFanoutService,
    SubscriptionSnapshotService,
    AdminInterestPublisher,
    RemoteAdminInterest,
    AdminClusterForwarder,
    AdminClusterReceiver,
  ],
})
export class AdminChannelModule {}
