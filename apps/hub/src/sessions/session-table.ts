import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import type { DeviceConnection } from './device-connection.js';

/** The token a session authenticated with, and when it stops working (epoch ms; null: never). */
export interface SessionToken {
  tokenId: string;
  expiresAt: number | null;
}

/**
 * Who is connected to this hub process: one current session per device (a new one takes over), and the
 * places held by connections whose token is still being checked, both counted against TELEHUB_MAX_CONNECTIONS.
 */
@Injectable()
export class SessionTable {
  private readonly current = new Map<string, DeviceConnection>();
  /** Each session's id: what the devices row records as the device's session, across hub processes. */
  private readonly sessionIds = new WeakMap<DeviceConnection, string>();
  private readonly tokens = new WeakMap<DeviceConnection, SessionToken>();
  /** Current sessions whose token has an expiry, with it: all the expiry sweep needs to look at. */
  private readonly expiring = new Map<DeviceConnection, number>();
  private handshakes = 0;

  constructor(@Inject(HUB_CONFIG) private readonly config: HubConfig) {}

  get size(): number {
    return this.current.size;
  }

  get(deviceId: string): DeviceConnection | undefined {
    return this.current.get(deviceId);
  }

  /** The devices with a live session on this hub process. */
  deviceIds(): string[] {
    return [...this.current.keys()];
  }

  /** Every current session, as a list that later changes do not affect. */
  connections(): DeviceConnection[] {
    return [...this.current.values()];
  }

  /**
   * A place for a new connection while its token is checked, or undefined when sessions and handshakes
   * already reach TELEHUB_MAX_CONNECTIONS. Call the returned release when the handshake is over, either way.
   */
  reserveHandshake(): (() => void) | undefined {
    if (this.current.size + this.handshakes >= this.config.devices.maxConnections) return undefined;
    this.handshakes += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.handshakes -= 1;
    };
  }

  /**
   * Makes `connection` its device's current session at once; answers the session it takes over, if any. `token`:
   * what it authenticated with, so that the session ends when the token expires.
   */
  add(connection: DeviceConnection, token?: SessionToken): DeviceConnection | undefined {
    const previous = this.current.get(connection.deviceId);
    this.current.set(connection.deviceId, connection);
    this.sessionIdOf(connection);
    if (previous) this.expiring.delete(previous);
    if (token) this.setToken(connection, token);
    return previous;
  }

  tokenOf(connection: DeviceConnection): SessionToken | undefined {
    return this.tokens.get(connection);
  }

  /** The session's token learnt anew (its expiry was changed, by a rotation). */
  setToken(connection: DeviceConnection, token: SessionToken): void {
    this.tokens.set(connection, token);
    if (token.expiresAt === null || this.current.get(connection.deviceId) !== connection) {
      this.expiring.delete(connection);
    } else {
      this.expiring.set(connection, token.expiresAt);
    }
  }

  /** Current sessions whose token expired at or before `now`. */
  expiredAt(now: number): DeviceConnection[] {
    const expired: DeviceConnection[] = [];
    for (const [connection, expiresAt] of this.expiring) if (expiresAt <= now) expired.push(connection);
    return expired;
  }

  /** The session's id, made (random) the first time it is asked for. */
  sessionIdOf(connection: DeviceConnection): string {
    let id = this.sessionIds.get(connection);
    if (id === undefined) {
      id = randomUUID();
      this.sessionIds.set(connection, id);
    }
    return id;
  }

  /** Forgets `connection` if it is still its device's current session; false for one that was taken over. */
  remove(connection: DeviceConnection): boolean {
    this.expiring.delete(connection);
    if (this.current.get(connection.deviceId) !== connection) return false;
    this.current.delete(connection.deviceId);
    return true;
  }

  /** Credentials changed (token revoked, device disabled or deleted): end its live session at once. */
  revoke(deviceId: string, reason: 'token_revoked' | 'not_authorized'): void {
    this.current.get(deviceId)?.close(reason);
  }
}
