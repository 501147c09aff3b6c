import { Inject, Injectable } from '@nestjs/common';
import { DevicePresenceRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { NodeIdentity } from '../common/node-identity.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { DevicePresence } from '../sessions/device-presence.js';
import { SessionLifecycle } from '../sessions/session-lifecycle.js';
import { SessionTable } from '../sessions/session-table.js';
import { ClusterBus } from './cluster-bus.js';

/**
 * One live session per device across the hub processes. Each session writes itself as its device's session on
 * record (DevicePresence); the write answers the live session it replaced, and that session's process closes it
 * (MQTT 5 DISCONNECT 0x8E Session taken over, WebSocket 4000): this process at once, another through the bus.
 * The database orders concurrent connects, so of two at once on two processes exactly one survives.
 */
@Injectable()
export class SessionOwnership {
  constructor(
    private readonly lifecycle: SessionLifecycle,
    private readonly table: SessionTable,
    private readonly owners: DevicePresenceRepository,
    private readonly presence: DevicePresence,
    private readonly bus: ClusterBus,
    private readonly identity: NodeIdentity,
    hubEvents: HubEvents,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    hubEvents.on('session_displaced', ({ deviceId, sessionId, instance }) => {
      if (instance === this.identity.instanceId) this.lifecycle.takenOver(deviceId, sessionId);
      else void this.bus.publish({ kind: 'session_taken_over', to: instance, deviceId, sessionId });
    });
    bus.on('session_taken_over', ({ to, deviceId, sessionId }) => {
      if (to === this.identity.instanceId) this.lifecycle.takenOver(deviceId, sessionId);
    });
    bus.onReconnect(() => void this.closeSessionsOwnedElsewhere());
  }

  /**
   * Takeover notices sent while the bus was down were lost: every live session here whose device has another
   * session on record now is closed. The sessions' own online writes are waited for first, so a session whose
   * write was still on its way is not mistaken for one taken over.
   */
  async closeSessionsOwnedElsewhere(): Promise<void> {
    try {
      const local = this.table.connections();
      await this.presence.flushWrites();
      const owners = await this.owners.sessionOwners(local.map((connection) => connection.deviceId));
      const recorded = new Map(owners.map((owner) => [owner.deviceId, owner.sessionId]));
      let closed = 0;
      for (const connection of local) {
        const mine = this.table.sessionIdOf(connection);
        const owner = recorded.get(connection.deviceId);
        if (owner && owner !== mine && this.lifecycle.takenOver(connection.deviceId, mine)) closed += 1;
      }
      if (closed > 0) this.logger.info({ closed }, 'closed sessions taken over while the cluster bus was down');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check which sessions were taken over while the bus was down');
    }
  }
}
