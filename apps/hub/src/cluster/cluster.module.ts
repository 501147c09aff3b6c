import { Module } from '@nestjs/common';
import { DeviceAuthModule } from '../device-auth/device-auth.module.js';
import { DeviceEventsModule } from '../events/device-events.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { ClusterBus } from './cluster-bus.js';
import { DeadNodeReaper } from './dead-node.reaper.js';
import { DeviceAccess } from './device-access.js';
import { NodeLeaseKeeper } from './node-lease.keeper.js';
import { SessionOwnership } from './session-ownership.js';

/**
 * Several hub processes on one database acting as one hub: leases (who is alive), the reaper (who is lost),
 * one live session per device across processes, and credential changes that hold on every process. They talk
 * over the cluster bus (PostgreSQL LISTEN/NOTIFY).
 */
@Module({
  imports: [DeviceSessionsModule, DeviceAuthModule, DeviceEventsModule],
  providers: [ClusterBus, NodeLeaseKeeper, DeadNodeReaper, SessionOwnership, DeviceAccess],
  exports: [ClusterBus, DeviceAccess],
})
export class ClusterModule {}
