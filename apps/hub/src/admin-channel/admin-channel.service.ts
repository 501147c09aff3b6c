import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  ADMIN_CLOSE,
  ADMIN_WS_PATH,
  type AdminCommandMessage,
  type AdminServerMessage,
  isFinalCommandStatus,
} from '@telehub/contracts';
import { AdminTokenRepository, type TelemetryBatch } from '@telehub/db';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { AdminTokenCheck } from '../admin-auth/admin-identity.js';
import { AdminTokenService } from '../admin-auth/admin-token.service.js';
import { bearerToken } from '../admin-auth/bearer-token.js';
import { AUTH_THROTTLED_DETAIL, AuthThrottle, retryAfterSeconds } from '../auth/auth-throttle.js';
import { presentCommand } from '../commands/command.presenter.js';
import { CommandService } from '../commands/command.service.js';
import { ListeningPorts } from '../common/listening-ports.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { type HubEventOf, HubEvents } from '../events/hub-events.js';
import { FleetSummaryService } from '../fleet/fleet-summary.service.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { rejectUpgrade, UpgradeRouter } from '../transports/upgrade-router.js';
import { originAllowed } from './admin-origin.js';
import { AdminSession, type AdminSessionServices, type ChannelTokenCheck } from './admin-session.js';
import type { LiveSubscription } from './live-subscription.js';
import { SubscriptionSnapshotService } from './subscription-snapshot.service.js';

const FLEET_INTERVAL_MS = 1000;
const TRANSPORT = 'admin-ws';

/**
 * The admin WebSocket channel at /v1/admin/ws: accepts connections, keeps an index of subscriptions by
 * device, and fans the hub's events out to them (committed telemetry, presence, state, device events,
 * command status), plus a fleet summary every second. Per-connection logic lives in AdminSession.
 */
@Injectable()
export class AdminChannelService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly server: WebSocketServer;
  private readonly sessions = new Set<AdminSession>();
  private readonly byDevice = new Map<string, Set<LiveSubscription>>();
  private readonly allDevices = new Set<LiveSubscription>();
  private readonly owners = new Map<LiveSubscription, AdminSession>();
  /** verifyToken is added per connection in upgrade(), where the connection's address is known. */
  private readonly sessionServices: Omit<AdminSessionServices, 'verifyToken'>;
  private readonly unsubscribeEvents: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private accepting = true;
  private unlistenRevocations: (() => Promise<void>) | undefined;
  private listeningForRevocations = false;

  constructor(
    upgrades: UpgradeRouter,
    ports: ListeningPorts,
    private readonly adminTokens: AdminTokenService,
    private readonly adminTokenRecords: AdminTokenRepository,
    private readonly throttle: AuthThrottle,
    private readonly commands: CommandService,
    snapshots: SubscriptionSnapshotService,
    private readonly fleet: FleetSummaryService,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: config.adminChannel.maxMessageBytes,
    });
    this.sessionServices = {
      config: config.adminChannel,
      maxJsonDepth: config.payloads.jsonMaxDepth,
      nodeId: config.nodeId,
      mqttPorts: () => ports.mqtt,
      logger,
      snapshot: (request) => snapshots.snapshot(request),
      createCommand: (message) => this.createCommand(message),
      register: (subscription, session) => this.register(subscription, session),
      unregister: (subscription) => this.unregister(subscription),
    };
    upgrades.register(ADMIN_WS_PATH, (request, socket, head) => {
      this.upgrade(request, socket, head).catch((error: unknown) => {
        this.logger.error({ err: error }, 'admin WebSocket handshake failed');
        socket.destroy();
      });
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // A token revoked anywhere (this hub's API, another hub, the CLI) is announced through PostgreSQL NOTIFY.
    this.unlistenRevocations = await this.adminTokenRecords.listen(
      (tokenId) => this.closeSessionsOf(new Set([tokenId])),
      () => void this.recheckTokens(),
    );
    const events = this.hubEvents;
    this.unsubscribeEvents.push(
      events.on('telemetry', (event) => this.onTelemetry(event.batch, event.xid)),
      events.on('presence', (event) => this.relay(event.deviceId, { ...event, type: 'presence' })),
      events.on('state', (event) => this.relay(event.deviceId, { ...event, type: 'state' })),
      events.on('device_event', (event) => this.relay(event.deviceId, { ...event, type: 'device_event' })),
      events.on('command', (event) => void this.onCommandStatus(event)),
    );
    this.timers = [
      setInterval(() => void this.broadcastFleet(), FLEET_INTERVAL_MS).unref(),
      setInterval(() => {
        for (const session of this.sessions) session.heartbeat();
      }, this.config.adminChannel.pingIntervalMs).unref(),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    this.accepting = false;
    await this.unlistenRevocations?.().catch(() => undefined);
    for (const stop of this.unsubscribeEvents.splice(0)) stop();
    for (const timer of this.timers) clearInterval(timer);
    for (const session of this.sessions) session.close(ADMIN_CLOSE.serverShutdown, 'server shutting down');
    this.sessions.clear();
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /**
   * A token in an Authorization header authenticates at once; otherwise the first message must be `auth`. Before
   * that: the browser origin (admin-origin.ts), the address's failure budget (AuthThrottle), and the number of
   * connections still to authenticate (TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED).
   */
  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const address = request.socket.remoteAddress;
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host, this.config.adminChannel.allowedOrigins)) {
      this.metrics.adminHandshakesRefused.inc({ reason: 'origin' });
      const detail = `a page of ${JSON.stringify(origin)} may not open the admin channel; add its origin to TELEHUB_ADMIN_ORIGINS`;
      rejectUpgrade(socket, 403, { code: 'origin_not_allowed', detail });
      return;
    }
    // Every admin connection is there to authenticate: an address over its failure budget is refused at once.
    const waitMs = this.throttle.check(address, TRANSPORT);
    if (waitMs > 0) {
      this.metrics.adminHandshakesRefused.inc({ reason: 'auth_throttled' });
      const seconds = retryAfterSeconds(waitMs);
      const detail = `${AUTH_THROTTLED_DETAIL}; try again in ${seconds} s`;
      rejectUpgrade(socket, 429, { code: 'auth_throttled', detail }, { 'Retry-After': String(seconds) });
      return;
    }
    const headerToken = bearerToken(request.headers.authorization);
    const check = headerToken === undefined ? undefined : await this.verify(headerToken, address);
    if (check?.ok === false && check.refusal === 'unavailable') {
      rejectUpgrade(
        socket,
        503,
        { code: 'unavailable', detail: 'could not check the token; try again' },
        { 'Retry-After': '5' },
      );
      return;
    }
    const identity = check?.ok ? check.identity : undefined;
    if (!this.accepting || socket.destroyed) {
      socket.destroy();
      return;
    }
    const { maxUnauthenticated, authTimeoutMs } = this.config.adminChannel;
    if (!identity && this.unauthenticatedCount() >= maxUnauthenticated) {
      this.metrics.adminHandshakesRefused.inc({ reason: 'unauthenticated_limit' });
      const detail = `${maxUnauthenticated} connections are waiting to authenticate (TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED)`;
      const retryAfter = String(retryAfterSeconds(authTimeoutMs));
      rejectUpgrade(socket, 503, { code: 'too_many_unauthenticated', detail }, { 'Retry-After': retryAfter });
      return;
    }
    // Synchronous from here to the session being added, so the count above cannot be overtaken.
    this.server.handleUpgrade(request, socket, head, (websocket) => {
      const services = { ...this.sessionServices, verifyToken: (token: string) => this.verify(token, address) };
      const session = new AdminSession(websocket, services, identity);
      this.sessions.add(session);
      this.metrics.adminConnections.inc();
      websocket.once('close', () => {
        this.sessions.delete(session);
        this.metrics.adminConnections.dec();
      });
    });
  }

  /**
   * An admin token checked within the address's failure budget: `throttled` when over it (nothing looked up),
   * `unavailable` when it could not be looked up (the database is down): never a rejection, which on a path any
   * stranger can reach would end the process.
   */
  private async verify(token: string, address: string | undefined): Promise<ChannelTokenCheck> {
    if (this.throttle.check(address, TRANSPORT) > 0) return { ok: false, refusal: 'throttled' };
    let check: AdminTokenCheck;
    try {
      check = await this.adminTokens.verify(token);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check an admin token');
      return { ok: false, refusal: 'unavailable' };
    }
    if (!check.ok) this.throttle.failed(address);
    return check;
  }

  /** Open connections that have not authenticated (at most TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED, plus those closing). */
  private unauthenticatedCount(): number {
    let count = 0;
    for (const session of this.sessions) if (!session.isAuthenticated) count += 1;
    return count;
  }

  /** Ends the connections signed in with these tokens: they were revoked. */
  private closeSessionsOf(tokenIds: Set<string>): void {
    for (const session of this.sessions) {
      const tokenId = session.tokenId;
      if (tokenId !== undefined && tokenIds.has(tokenId)) session.close(ADMIN_CLOSE.authFailed, 'admin token revoked');
    }
  }

  /**
   * Revocations announced while the listening connection was down are lost: when it is back, the tokens of
   * every open connection are read again. (The first call is the listen itself: nothing to catch up on.)
   */
  private async recheckTokens(): Promise<void> {
    if (!this.listeningForRevocations) {
      this.listeningForRevocations = true;
      return;
    }
    const tokenIds = new Set<string>();
    for (const session of this.sessions) if (session.tokenId !== undefined) tokenIds.add(session.tokenId);
    try {
      const active = await this.adminTokenRecords.activeIds([...tokenIds]);
      this.closeSessionsOf(new Set([...tokenIds].filter((id) => !active.has(id))));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not check the admin tokens of open admin connections');
    }
  }

  private register(subscription: LiveSubscription, session: AdminSession): void {
    this.owners.set(subscription, session);
    const devices = subscription.deviceIds;
    if (devices === undefined) {
      this.allDevices.add(subscription);
      return;
    }
    for (const deviceId of devices) {
      let subscriptions = this.byDevice.get(deviceId);
      if (!subscriptions) {
        subscriptions = new Set();
        this.byDevice.set(deviceId, subscriptions);
      }
      subscriptions.add(subscription);
    }
  }

  private unregister(subscription: LiveSubscription): void {
    this.owners.delete(subscription);
    this.allDevices.delete(subscription);
    for (const deviceId of subscription.deviceIds ?? []) {
      const subscriptions = this.byDevice.get(deviceId);
      subscriptions?.delete(subscription);
      if (subscriptions?.size === 0) this.byDevice.delete(deviceId);
    }
  }

  /** One committed batch: each row goes to the subscriptions of its device, then each touched one is scheduled. */
  private onTelemetry(batch: TelemetryBatch, xid: string | undefined): void {
    if (this.owners.size === 0) return;
    // Per subscription, once per batch: is this batch live for it, or already in its snapshot?
    const live = new Map<LiveSubscription, boolean>();
    const accepts = (subscription: LiveSubscription) => {
      let accepted = live.get(subscription);
      if (accepted === undefined) {
        accepted = subscription.acceptsBatch(xid);
        live.set(subscription, accepted);
      }
      return accepted;
    };
    const touched = new Set<LiveSubscription>();
    const { times, deviceIds, metrics, values } = batch;
    for (let index = 0; index < times.length; index += 1) {
      const deviceId = deviceIds[index] as string;
      const subscriptions = this.byDevice.get(deviceId);
      if (!subscriptions && this.allDevices.size === 0) continue;
      const metric = metrics[index] as string;
      const time = times[index] as number;
      const value = values[index] as number;
      for (const group of [subscriptions, this.allDevices]) {
        for (const subscription of group ?? []) {
          if (accepts(subscription) && subscription.add(deviceId, metric, time, value, xid)) touched.add(subscription);
        }
      }
    }
    for (const subscription of touched) this.owners.get(subscription)?.schedule(subscription);
  }

  private relay(deviceId: string | null, message: AdminServerMessage): void {
    for (const session of this.sessions) {
      if (session.wantsEventsFor(deviceId)) session.send(message);
    }
  }

  /** Final statuses carry the whole command (result, error, timeline), read once for every interested session. */
  private async onCommandStatus(event: HubEventOf<'command'>): Promise<void> {
    const interested = [...this.sessions].filter(
      (session) => session.sentCommand(event.id) || session.wantsEventsFor(event.deviceId),
    );
    if (interested.length === 0) return;
    const { type: _type, ...notice } = event;
    const command = isFinalCommandStatus(event.status)
      ? await this.commands.get(event.deviceId, event.id).catch(() => undefined)
      : undefined;
    const message: AdminServerMessage = {
      type: 'command_status',
      ...notice,
      ...(command ? { command: presentCommand(command) } : {}),
    };
    for (const session of interested) session.send(message);
  }

  private async createCommand(message: AdminCommandMessage): Promise<ReturnType<typeof presentCommand>> {
    const { type: _type, ref: _ref, deviceId, ...request } = message;
    const { command } = await this.commands.create(deviceId, request);
    return presentCommand(command);
  }

  private async broadcastFleet(): Promise<void> {
    const authenticated = [...this.sessions].filter((session) => session.isAuthenticated);
    if (authenticated.length === 0) return;
    try {
      const summary = await this.fleet.summary();
      const message: AdminServerMessage = { type: 'fleet', at: Date.now(), ...summary };
      for (const session of authenticated) session.send(message);
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the fleet summary');
    }
  }
}
