import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import type { CloseReason, DeviceConnection } from './device-connection.js';
import { DevicePresence } from './device-presence.js';
import { FlowControl } from './flow-control.js';
import { SessionTable, type SessionToken } from './session-table.js';

/**
 * Opens and ends device sessions, whatever their transport: the session table, flow control and presence
 * updated together, in an order that lets a new session take over at once and lets only the device's current
 * session mark it offline.
 */
@Injectable()
export class SessionLifecycle {
  constructor(
    private readonly table: SessionTable,
    private readonly flow: FlowControl,
    private readonly presence: DevicePresence,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /**
   * A device authenticated: its session is current (and metered) before this returns, so messages arriving while
   * presence is written count against it; a previous session of the device is closed (takeover). `token`: what it
   * authenticated with; the session ends when the token expires (TokenExpirySweeper).
   */
  async open(connection: DeviceConnection, token?: SessionToken): Promise<void> {
    const previous = this.table.add(connection, token);
    this.flow.track(connection);
    if (previous) this.endTakenOver(previous);
    await this.presence.online(connection, this.table.sessionIdOf(connection));
  }

  /**
   * The database recorded a newer session of the device (opened on this hub process or another): if session
   * `sessionId` is still the device's current one here, it ends (MQTT 5 DISCONNECT 0x8E, WebSocket 4000) without
   * marking the device offline. False when there is no such session here (it ended already).
   */
  takenOver(deviceId: string, sessionId: string): boolean {
    const connection = this.table.get(deviceId);
    if (!connection || this.table.sessionIdOf(connection) !== sessionId) return false;
    this.table.remove(connection);
    this.endTakenOver(connection);
    return true;
  }

  /** A session ended. Only the current session of a device marks it offline (not one taken over). */
  closed(connection: DeviceConnection, reason: CloseReason | string): void {
    const now = Date.now();
    this.presence.ended(connection, reason, now);
    if (!this.table.remove(connection)) return;
    this.flow.forget(connection);
    this.presence.offline(connection, this.table.sessionIdOf(connection), reason, now);
  }

  /** Ends a session that is no longer its device's current one (the table has forgotten it already). */
  private endTakenOver(connection: DeviceConnection): void {
    this.flow.forget(connection);
    connection.close('taken_over');
  }

  /**
   * Shutdown: close every session (after its pending messages were acknowledged), and wait until they have
   * closed. Each transport ends its side after its last acknowledgements and reads on until the device closes
   * too: a process exiting earlier would close sockets with unread bytes, and the resets that sends would drop
   * the acknowledgements just written. Resolves to the number of sessions it closed.
   */
  async closeAll(reason: CloseReason, drainTimeoutMs: number): Promise<number> {
    const connections = this.table.connections();
    for (const connection of connections) this.flow.holdForShutdown(connection);
    await Promise.race([
      Promise.allSettled(connections.map((connection) => connection.drain())),
      new Promise((resolve) => setTimeout(resolve, drainTimeoutMs).unref()),
    ]);
    for (const connection of connections) connection.close(reason);
    // Transports cut off a device that does not close within TELEHUB_CLOSE_GRACE_MS; this bounds one that fails to.
    await Promise.race([
      Promise.allSettled(connections.map((connection) => connection.ended)),
      new Promise((resolve) => setTimeout(resolve, 2 * this.config.devices.closeGraceMs).unref()),
    ]);
    return connections.length;
  }
}
