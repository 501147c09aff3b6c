import {
  ADMIN_CLOSE,
  type AdminClientMessage,
  AdminClientMessageSchema,
  type AdminCommandMessage,
  type AdminServerMessage,
  type AdminSnapshotMessage,
  type AdminSubscribeMessage,
  type Command,
  parseJsonText,
} from '@telehub/contracts';
import type { Logger } from 'pino';
import { type RawData, WebSocket } from 'ws';
import type { AdminIdentity, AdminTokenCheck, AdminTokenRefusal } from '../admin-auth/admin-identity.js';
import { ApiError } from '../common/api-error.js';
import type { MqttPorts } from '../common/listening-ports.js';
import { rawText } from '../common/websocket-text.js';
import type { HubConfig } from '../config/hub-config.js';
import { LiveSubscription, type SnapshotMembership } from './live-subscription.js';
import { messageRefusal } from './message-permission.js';

/** A snapshot message, and which committed batches (by transaction id) the snapshot includes. */
export interface SubscriptionSnapshot {
  message: Omit<AdminSnapshotMessage, 'type' | 'id'>;
  includedInSnapshot: SnapshotMembership;
}

/** What a session needs from the hub; the channel passes these in, so the session knows nothing of Nest. */
export interface AdminSessionServices {
  config: HubConfig['adminChannel'];
  /** TELEHUB_JSON_MAX_DEPTH */
  maxJsonDepth: number;
  nodeId: string;
  /** The MQTT listeners' ports, told to clients at auth (they are known once the hub listens). */
  mqttPorts(): MqttPorts;
  logger: Logger;
  /** Never rejects: a token that could not be checked is `unavailable`. */
  verifyToken(token: string): Promise<ChannelTokenCheck>;
  snapshot(request: AdminSubscribeMessage): Promise<SubscriptionSnapshot>;
  createCommand(message: AdminCommandMessage): Promise<Command>;
  /** Adds the subscription to the channel's index (live points start buffering) or removes it. */
  register(subscription: LiveSubscription, session: AdminSession): void;
  unregister(subscription: LiveSubscription): void;
}

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

/** Node's timers take at most 2^31 - 1 ms (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One admin WebSocket connection: authentication, its subscriptions, flushing their live points at their
 * rate, and relaying events. Every message is one JSON object (libs/contracts/src/admin-protocol.ts).
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
    private readonly websocket: WebSocket,
    private readonly services: AdminSessionServices,
    /** The token of the upgrade request's Authorization header, when it was valid. */
    identityFromHeader: AdminIdentity | undefined,
  ) {
    websocket.on('message', (data, isBinary) => void this.onMessage(data, isBinary));
    websocket.on('pong', () => {
      this.alive = true;
    });
    websocket.on('error', (error) => services.logger.debug({ err: error }, 'admin WebSocket error'));
    websocket.once('close', () => this.onClosed());
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

  send(message: AdminServerMessage): void {
    if (this.closed || this.websocket.readyState !== WebSocket.OPEN) return;
    if (this.isStalled()) {
      this.close(1013, 'client stopped reading');
      return;
    }
    this.websocket.send(JSON.stringify(message));
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
      this.websocket.terminate();
      return;
    }
    this.alive = false;
    this.websocket.ping();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.websocket.close(code, reason);
    this.onClosed();
  }

  /**
   * A client may fall behind for a while (a big snapshot, a slow link): its points are thinned meanwhile. One
   * that stays behind for TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS is not reading at all and would only hold memory.
   */
  private isStalled(now = Date.now()): boolean {
    if (this.websocket.bufferedAmount <= this.services.config.maxBufferBytes) {
      this.backedUpSince = undefined;
      return false;
    }
    this.backedUpSince ??= now;
    return now - this.backedUpSince > this.services.config.stallTimeoutMs;
  }

  private flush(subscription: LiveSubscription): void {
    if (this.closed || !this.subscriptions.has(subscription.id) || !subscription.hasPending) return;
    if (this.isStalled()) {
      this.close(1013, 'client stopped reading');
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

  private async onMessage(data: RawData, isBinary: boolean): Promise<void> {
    this.alive = true;
    const message = this.parse(data, isBinary);
    if (!message) return;
    const identity = this.identity;
    if (!identity) {
      if (message.type !== 'auth') {
        this.close(ADMIN_CLOSE.authRequired, 'authenticate first: {"type":"auth","token":"…"}');
        return;
      }
      const check = await this.services.verifyToken(message.token);
      if (check.ok) this.authenticate(check.identity);
      else if (check.refusal === 'throttled') this.close(ADMIN_CLOSE.authThrottled, 'too many failed authentications');
      // RFC 6455 §7.4.1: 1013 "try again later".
      else if (check.refusal === 'unavailable') this.close(1013, 'could not check the token; try again');
      else this.close(ADMIN_CLOSE.authFailed, REFUSED[check.refusal]);
      return;
    }
    try {
      const refusal = messageRefusal(message.type, identity.role);
      if (refusal) throw refusal;
      await this.handle(message);
    } catch (error) {
      const id = 'id' in message ? message.id : 'ref' in message ? message.ref : undefined;
      // ApiErrors (the REST API's, and this channel's own) carry a stable code meant for the client; anything
      // else is the hub's problem, logged here and not explained to the client.
      const known = error instanceof ApiError;
      this.services.logger[known ? 'debug' : 'warn'](
        { err: error, type: message.type },
        'admin channel request failed',
      );
      this.send({
        type: 'error',
        ...(id === undefined ? {} : { id }),
        code: known ? error.code : 'internal_error',
        message: known ? error.message : 'the hub could not do this; see its log',
      });
    }
  }

  private async handle(message: AdminClientMessage): Promise<void> {
    switch (message.type) {
      case 'auth':
        return; // already authenticated: harmless
      case 'ping':
        this.send({ type: 'pong', ...(message.ref === undefined ? {} : { ref: message.ref }), at: Date.now() });
        return;
      case 'subscribe':
        return this.subscribe(message);
      case 'unsubscribe':
        this.unsubscribe(message.id);
        this.send({ type: 'unsubscribed', id: message.id });
        return;
      case 'command': {
        const command = await this.services.createCommand(message);
        this.ownCommands.add(command.id);
        this.send({
          type: 'command_created',
          ...(message.ref === undefined ? {} : { ref: message.ref }),
          command,
        });
        return;
      }
    }
  }

  private async subscribe(message: AdminSubscribeMessage): Promise<void> {
    const { config } = this.services;
    // Reusing an id replaces that subscription.
    this.unsubscribe(message.id);
    if (this.subscriptions.size >= config.maxSubscriptions) {
      throw channelError(
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
    // Registered before the history is read, so nothing committed meanwhile is missed (see LiveSubscription).
    this.subscriptions.set(message.id, subscription);
    this.services.register(subscription, this);
    let snapshot: SubscriptionSnapshot;
    try {
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

  private unsubscribe(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    this.subscriptions.delete(id);
    clearTimeout(this.flushTimers.get(subscription));
    this.flushTimers.delete(subscription);
    this.services.unregister(subscription);
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

  private parse(data: RawData, isBinary: boolean): AdminClientMessage | undefined {
    if (isBinary) {
      this.close(ADMIN_CLOSE.protocolError, 'send JSON in text frames');
      return undefined;
    }
    const text = parseJsonText(rawText(data), this.services.maxJsonDepth);
    if (!text.ok) {
      this.reject(
        text.code,
        text.code === 'invalid_json' ? 'a message is one JSON object' : `a message ${text.message}`,
      );
      return undefined;
    }
    const json = text.value;
    const parsed = AdminClientMessageSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    const id = (json as { id?: unknown; ref?: unknown } | null)?.id ?? (json as { ref?: unknown } | null)?.ref;
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`);
    this.reject('invalid_message', detail.join('; '), typeof id === 'string' ? id : undefined);
    return undefined;
  }

  /** Before authentication a bad message closes the connection; after, it is answered with an error. */
  private reject(code: string, message: string, id?: string): void {
    if (!this.identity) {
      this.close(ADMIN_CLOSE.authRequired, 'authenticate first: {"type":"auth","token":"…"}');
      return;
    }
    this.send({ type: 'error', ...(id === undefined ? {} : { id }), code, message });
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.expiryTimer);
    for (const id of [...this.subscriptions.keys()]) this.unsubscribe(id);
  }
}

/** A request this channel refuses, with the stable code the client sees in its `error` message. */
export function channelError(code: string, message: string): ApiError {
  return new ApiError(400, code, 'Admin channel request refused', message);
}
