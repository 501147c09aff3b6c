import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DEVICE_WS_PATH, DEVICE_WS_PING_INTERVAL_MS } from '@telehub/contracts';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { bearerToken } from '../../admin-auth/bearer-token.js';
import { AUTH_THROTTLED_DETAIL, retryAfterSeconds } from '../../auth/auth-throttle.js';
import { displayAddress } from '../../auth/source-address.js';
import { HUB_CONFIG, type HubConfig } from '../../config/hub-config.js';
import type { DeviceAuthResult } from '../../device-auth/device-auth.service.js';
import { LOGGER } from '../../logging/logger.token.js';
import { CONNECT_RATE_DETAIL } from '../../sessions/device-connect-rate.js';
import type { CloseReason } from '../../sessions/device-connection.js';
import type { SessionToken } from '../../sessions/session-table.js';
import type { DeviceListener } from '../device-listener.js';
import { DevicePort } from '../device-port.js';
import { rejectUpgrade, UpgradeRouter } from '../upgrade-router.js';
import { DeviceWsSession } from './device-ws.session.js';

const TRANSPORT = 'ws';

/**
 * JSON over WebSocket at /v1/devices/ws. The device token is checked in the HTTP handshake (header or
 * `?token=` for browsers), so a refused device gets an HTTP status, never an upgraded socket.
 */
@Injectable()
export class DeviceWsListener implements DeviceListener, OnModuleDestroy {
  private readonly server: WebSocketServer;
  private readonly sessions = new Set<DeviceWsSession>();
  private readonly pingTimer: NodeJS.Timeout;
  private accepting = true;

  constructor(
    private readonly port: DevicePort,
    upgrades: UpgradeRouter,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: config.devices.maxMessageBytes,
      perMessageDeflate: config.devices.perMessageDeflate,
    });
    upgrades.register(
      DEVICE_WS_PATH,
      (request, socket, head) => {
        this.upgrade(request, socket, head).catch((error: unknown) => {
          this.logger.error({ err: error }, 'device WebSocket handshake failed');
          socket.destroy();
        });
      },
      { deviceSessions: true },
    );
    this.pingTimer = setInterval(() => {
      for (const session of this.sessions) session.heartbeat();
    }, DEVICE_WS_PING_INTERVAL_MS).unref();
  }

  async stopAccepting(): Promise<void> {
    this.accepting = false;
  }

  async onModuleDestroy(): Promise<void> {
    this.accepting = false;
    clearInterval(this.pingTimer);
    // Normally DeviceShutdown has closed every session by now; this is for an app closed without it.
    const open = [...this.sessions];
    for (const session of open) session.close('server_shutdown');
    // Sessions told to close get TELEHUB_CLOSE_GRACE_MS to finish the closing handshake.
    if (open.length > 0) {
      await Promise.race([Promise.all(open.map((session) => session.ended)), sleep(this.config.devices.closeGraceMs)]);
    }
    for (const session of this.sessions) session.terminate('server_shutdown');
    this.server.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!this.accepting) {
      rejectUpgrade(socket, 503, { code: 'shutting_down', detail: 'the hub is shutting down' }, { 'Retry-After': '5' });
      return;
    }
    const release = this.port.reserveHandshake();
    if (!release) {
      rejectUpgrade(
        socket,
        503,
        { code: 'too_many_connections', detail: 'the hub has reached TELEHUB_MAX_CONNECTIONS' },
        { 'Retry-After': '30' },
      );
      return;
    }
    // The device may hang up while its token is checked; that must not be an uncaught 'error'.
    const ignoreError = () => undefined;
    socket.on('error', ignoreError);
    let result: DeviceAuthResult;
    try {
      result = await this.authenticate(request);
    } catch (error) {
      this.logger.error({ err: error }, 'device authentication failed');
      rejectUpgrade(socket, 503, { code: 'unavailable', detail: 'could not check the token; try again' });
      return;
    } finally {
      release();
    }
    if (!result.ok && result.reason === 'throttled') {
      const seconds = retryAfterSeconds(result.retryAfterMs);
      const detail = `${AUTH_THROTTLED_DETAIL}; try again in ${seconds} s`;
      rejectUpgrade(socket, 429, { code: 'auth_throttled', detail }, { 'Retry-After': String(seconds) });
      return;
    }
    if (!result.ok) {
      rejectUpgrade(
        socket,
        401,
        { code: 'unauthorized', detail: 'send a valid device token as "Authorization: Bearer thd_…" or ?token=thd_…' },
        { 'WWW-Authenticate': 'Bearer' },
      );
      return;
    }
    const deviceId = result.deviceId;
    const waitMs = this.port.admitConnect(deviceId, TRANSPORT);
    if (waitMs > 0) {
      const seconds = retryAfterSeconds(waitMs);
      const detail = `${CONNECT_RATE_DETAIL}; try again in ${seconds} s`;
      rejectUpgrade(socket, 429, { code: 'connect_rate_limited', detail }, { 'Retry-After': String(seconds) });
      return;
    }
    if (!this.accepting) {
      rejectUpgrade(socket, 503, { code: 'shutting_down', detail: 'the hub is shutting down' }, { 'Retry-After': '5' });
      return;
    }
    if (socket.destroyed) return;
    socket.off('error', ignoreError);
    // Validates the rest of the handshake (RFC 6455 §4.2.1) and answers 400 itself when it is wrong.
    const remoteAddress = displayAddress(request.socket.remoteAddress);
    const token = { tokenId: result.tokenId, expiresAt: result.tokenExpiresAt };
    this.server.handleUpgrade(request, socket, head, (websocket) =>
      this.open(websocket, token, deviceId, remoteAddress),
    );
  }

  /** The request's token checked (a refusal is recorded by DeviceAuthService). */
  private authenticate(request: IncomingMessage): Promise<DeviceAuthResult> {
    const token = bearerToken(request.headers.authorization) ?? queryToken(request.url);
    return this.port.authenticate(token, { transport: TRANSPORT, remoteAddress: request.socket.remoteAddress });
  }

  private open(websocket: WebSocket, token: SessionToken, deviceId: string, remoteAddress: string | null): void {
    const { port, logger } = this;
    const services = {
      port,
      logger,
      maxMessageBytes: this.config.devices.maxMessageBytes,
      maxJsonDepth: this.config.payloads.jsonMaxDepth,
    };
    const session = new DeviceWsSession(websocket, deviceId, services, remoteAddress);
    this.sessions.add(session);
    void session.ended.then((reason) => this.ended(session, reason));
    // open() registers the session synchronously (closing a previous one: takeover) before it awaits the
    // presence write, so frames arriving meanwhile are already admitted against this session. Commands wait for
    // that write: only the session on record may claim them.
    void port.openSession(session, token).then(
      () => port.commandsReady(session),
      (error: unknown) => logger.warn({ err: error, deviceId }, 'could not register the device session'),
    );
    logger.debug({ deviceId }, 'device connected over WebSocket');
  }

  private ended(session: DeviceWsSession, reason: CloseReason): void {
    this.sessions.delete(session);
    this.port.closeSession(session, reason);
    this.logger.debug({ deviceId: session.deviceId, reason }, 'device WebSocket closed');
  }
}

/** `?token=thd_…`: browsers cannot set headers on a WebSocket handshake. */
function queryToken(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://upgrade.invalid').searchParams.get('token') ?? undefined;
  } catch {
    return undefined;
  }
}
