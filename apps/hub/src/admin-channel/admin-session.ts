import {
  ADMIN_CLOSE,
  type AdminClientMessage,
  type AdminPongMessage,
  type AdminServerMessage,
  type AdminSnapshotMessage,
  type AdminSubscribeMessage,
} from '@telehub/contracts';
import type { Logger } from 'pino';
import type { AdminIdentity, AdminTokenCheck, AdminTokenRefusal } from '../admin-auth/admin-identity.js';
import type { MqttPorts } from '../common/listening-ports.js';
import type { HubConfig } from '../config/hub-config.js';
import { AdminAuthRequired, AdminMessageRefused } from './admin-channel.errors.js';
import { LiveSubscription, type SnapshotMembership } from './live-subscription.js';
import { messageRefusal } from './message-permission.js';

/** A snapshot message, and which committed batches (by transaction id) the snapshot includes. */
export interface SubscriptionSnapshot {
  message: Omit<AdminSnapshotMessage, 'type' | 'id'>;
  includedInSnapshot: SnapshotMembership;
}

/** What a session needs from the hub; the gateway passes these in, so a session is plain logic. */
export interface AdminSessionServices {
  config: HubConfig['adminChannel'];
  nodeId: string;
  /** The MQTT listeners' ports, told to clients at auth (they are known once the hub listens). */
  mqttPorts(): MqttPorts;
  logger: Logger;
  /** Never rejects: a token that could not be checked is `unavailable`. */
  verifyToken(token: string): Promise<ChannelTokenCheck>;
  snapshot(request: AdminSubscribeMessage): Promise<SubscriptionSnapshot>;
  /**
   * Adds the subscription to the channel's index (live points start buffering) or removes it. Resolves once the
   * other hub processes send this one the subscription's live points (see AdminInterestPublisher).
   */
  register(subscription: LiveSubscription, session: AdminSession): Promise<void> | void;
  unregister(subscription: LiveSubscription): void;
}

/** The part of a `ws` WebSocket a session uses. */
export interface AdminSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
  terminate(): void;
  on(event: 'message' | 'pong', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** WebSocket.OPEN (RFC 6455 §4.1: the connection is established). */
const OPEN = 1;

/**
 * A token checked for the channel: besides the token's own verdict, `throttled` (the connection's address is
 * over its failure budget, so the token was not looked up) and `unavailable` (it could not be looked up).
 */
export type ChannelTokenCheck = AdminTokenCheck | { ok: false; refusal: 'throttled' | 'unavailable' };

/** Close reasons (with ADMIN_CLOSE.authFailed) for a token refused at sign-in. */
const REFUSED: Record<AdminTokenRefusal, string> = {
  unknown: 'invalid admin token',
  revoked: 'admin token revoked',
  expired: 'admin token expired',
};

export const AUTHENTICATE_FIRST = 'authenticate first: {"type":"auth","token":"…"}';

/** Node's timers take at most 2^31 - 1 ms (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One admin WebSocket connection: authentication, its subscriptions, flushing their live points at their
 * rate (newest-only while the client reads too slowly), and relaying events. The gateway hands it each
 * validated message (libs/contracts/src/admin-protocol.ts); everything it sends goes through send().
 */
export class AdminSession {
  private identity: AdminIdentity | undefined;
  private alive = true;
  private closed = false;
  private readonly subscriptions = new Map<string, LiveSubscription>();
  private readonly flushTimers = new Map<LiveSubscription, NodeJS.Timeout>();
  /** Commands sent from this connection: their status is pushed here even without a subscription. */
  private readonly ownCommands = new Set<string>();
  private readonly authTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Since when more than TELEHUB_ADMIN_WS_MAX_BUFFER_BYTES have been waiting unsent; undefined: not backed up. */
  private backedUpSince: number | undefined;

  constructor(
    private readonly socket: AdminSocket,
    private readonly services: AdminSessionServices,
    /** The token of the upgrade request's Authorization header, when it was valid. */
    identityFromHeader: AdminIdentity | undefined,
  ) {
    socket.on('message', () => {
      this.alive = true;
    });
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('error', (error) => services.logger.debug({ err: error }, 'admin WebSocket error'));
    if (identityFromHeader) {
      this.authenticate(identityFromHeader);
    } else {
      // Nothing but `auth` is accepted before authentication, and not for long.
      this.authTimer = setTimeout(
        () => this.close(ADMIN_CLOSE.authRequired, 'authentication timeout'),
        services.config.authTimeoutMs,
      );
    }
  }

  get isAuthenticated(): boolean {
    return this.identity !== undefined && !this.closed;
  }

  /** The admin token this connection signed in with (undefined before). */
  get tokenId(): string | undefined {
    return this.identity?.tokenId;
  }

  /** Whether an event about `deviceId` goes to this connection. */
  wantsEventsFor(deviceId: string | null): boolean {
    if (!this.isAuthenticated) return false;
    for (const subscription of this.subscriptions.values()) {
      if (subscription.events && subscription.coversDevice(deviceId)) return true;
    }
    return false;
  }

  sentCommand(commandId: string): boolean {
    return this.ownCommands.has(commandId);
  }

  /** A command this connection created: its status is pushed here from now on. */
  commandCreated(commandId: string): void {
    this.ownCommands.add(commandId);
  }

  /**
   * May this connection's token send a message of `type`? Throws AdminAuthRequired before authentication and
   * the `forbidden` refusal when its role does not allow it (ADMIN_MESSAGE_ROLES).
   */
  authorize(type: AdminClientMessage['type']): void {
    if (!this.identity) throw new AdminAuthRequired();
    const refusal = messageRefusal(type, this.identity.role);
    if (refusal) throw refusal;
  }

  /** The `auth` message: checks the token and answers auth_ok, or closes with the code that says why. */
  async signIn(token: string): Promise<void> {
    if (this.identity) return; // already authenticated: harmless
    const check = await this.services.verifyToken(token);
    if (check.ok) this.authenticate(check.identity);
    else if (check.refusal === 'throttled') this.close(ADMIN_CLOSE.authThrottled, 'too many failed authentications');
    // RFC 6455 §7.4.1: 1013 "try again later".
    else if (check.refusal === 'unavailable')
      this.close(ADMIN_CLOSE.tryAgainLater, 'could not check the token; try again');
    else this.close(ADMIN_CLOSE.authFailed, REFUSED[check.refusal]);
  }

  pong(ref: string | undefined, now = Date.now()): AdminPongMessage {
    return { type: 'pong', ...(ref === undefined ? {} : { ref }), at: now };
  }

  /**
   * A refused message: answered with an `error` frame naming `id` (the connection stays open), or, before
   * authentication, the connection is closed, since nothing but `auth` is accepted then.
   */
  refuse(code: string, message: string, id?: string): void {
    if (!this.identity) {
      this.close(ADMIN_CLOSE.authRequired, AUTHENTICATE_FIRST);
      return;
    }
    this.send({ type: 'error', ...(id === undefined ? {} : { id }), code, message });
  }

  send(message: AdminServerMessage): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    if (this.isStalled()) {
      this.close(ADMIN_CLOSE.tryAgainLater, 'client stopped reading');
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  /**
   * A new subscription (replacing one of the same id): registered before its history is read, so nothing
   * committed meanwhile is missed (see LiveSubscription), on this hub process or, once register() resolved, on
   * any other; then the snapshot, then live points.
   */
  async subscribe(message: AdminSubscribeMessage): Promise<void> {
    const { config } = this.services;
    this.unsubscribe(message.id);
    if (this.subscriptions.size >= config.maxSubscriptions) {
      throw new AdminMessageRefused(
        'too_many_subscriptions',
        `at most ${config.maxSubscriptions} subscriptions per connection (TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS)`,
      );
    }
    const rate = Math.min(message.maxRate ?? config.defaultRate, config.maxRate);
    const subscription = new LiveSubscription({
      id: message.id,
      devices: message.devices === '*' ? undefined : new Set(message.devices),
      metrics: message.metrics === '*' ? undefined : new Set(message.metrics),
      events: message.events ?? true,
      intervalMs: 1000 / rate,
      maxPendingPoints: config.maxPendingPoints,
    });
    this.subscriptions.set(message.id, subscription);
    let snapshot: SubscriptionSnapshot;
    try {
      const registering = this.services.register(subscription, this);
      if (registering) {
        await registering;
        if (this.subscriptions.get(message.id) !== subscription) return; // replaced or unsubscribed meanwhile
      }
      snapshot = await this.services.snapshot(message);
    } catch (error) {
      this.unsubscribe(message.id);
      throw error;
    }
    if (this.subscriptions.get(message.id) !== subscription) return; // replaced or unsubscribed meanwhile
    this.send({ type: 'snapshot', id: message.id, ...snapshot.message });
    subscription.goLive(snapshot.includedInSnapshot);
    this.schedule(subscription);
  }

  unsubscribe(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    this.subscriptions.delete(id);
    clearTimeout(this.flushTimers.get(subscription));
    this.flushTimers.delete(subscription);
    this.services.unregister(subscription);
  }

  /** Points were added to `subscription`: send them now, or when its rate allows, or newest-only if lagging. */
  schedule(subscription: LiveSubscription): void {
    if (!subscription.isLive || this.flushTimers.has(subscription)) return;
    const wait = subscription.lastFlushAt + subscription.intervalMs - Date.now();
    if (wait <= 0) {
      this.flush(subscription);
      return;
    }
    this.flushTimers.set(
      subscription,
      setTimeout(() => {
        this.flushTimers.delete(subscription);
        this.flush(subscription);
      }, wait),
    );
  }

  /** WebSocket ping (RFC 6455 §5.5.2); a connection that did not answer the previous one is dead. */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    this.disconnected();
  }

  /** The connection is gone (or going): timers stop and subscriptions leave the channel's index. */
  disconnected(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.expiryTimer);
    for (const id of [...this.subscriptions.keys()]) this.unsubscribe(id);
  }

  /**
   * A client may fall behind for a while (a big snapshot, a slow link): its points are thinned meanwhile. One
   * that stays behind for TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS is not reading at all and would only hold memory.
   */
  private isStalled(now = Date.now()): boolean {
    if (this.socket.bufferedAmount <= this.services.config.maxBufferBytes) {
      this.backedUpSince = undefined;
      return false;
    }
    this.backedUpSince ??= now;
    return now - this.backedUpSince > this.services.config.stallTimeoutMs;
  }

  private flush(subscription: LiveSubscription): void {
    if (this.closed || !this.subscriptions.has(subscription.id) || !subscription.hasPending) return;
    if (this.isStalled()) {
      this.close(ADMIN_CLOSE.tryAgainLater, 'client stopped reading');
      return;
    }
    if (this.backedUpSince !== undefined) {
      // The client is behind: keep only the newest points and look again after one interval.
      subscription.keepNewestOnly();
      subscription.lastFlushAt = Date.now();
      this.schedule(subscription);
      return;
    }
    const { series, dropped } = subscription.take(Date.now());
    if (dropped > 0) this.send({ type: 'lagged', id: subscription.id, dropped });
    if (series.length > 0) this.send({ type: 'points', id: subscription.id, series });
  }

  private authenticate(identity: AdminIdentity): void {
    clearTimeout(this.authTimer);
    this.identity = identity;
    if (identity.expiresAt) this.closeAtExpiry(identity.expiresAt.getTime());
    const { nodeId, config } = this.services;
    this.send({
      type: 'auth_ok',
      node: nodeId,
      defaultRate: config.defaultRate,
      role: identity.role,
      ...this.services.mqttPorts(),
    });
  }

  /** A token that expires while connected ends the connection then, as a revoked one does. */
  private closeAtExpiry(expiresAt: number): void {
    const wait = expiresAt - Date.now();
    this.expiryTimer = setTimeout(
      () => (wait > MAX_TIMER_MS ? this.closeAtExpiry(expiresAt) : this.close(ADMIN_CLOSE.authFailed, REFUSED.expired)),
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }
}
