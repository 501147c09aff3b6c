import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import { answerRawSocket } from '../common/raw-http-answer.js';
import { HttpServerLimits } from '../http-server/http-server-limits.js';
import { LOGGER } from '../logging/logger.token.js';

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface UpgradeRoute {
  /**
   * The connection becomes a device session (device WebSocket, MQTT over WebSocket): it leaves the HTTP port's
   * budget (TELEHUB_HTTP_MAX_CONNECTIONS) and its handler counts it against TELEHUB_MAX_CONNECTIONS.
   */
  deviceSessions?: boolean;
}

/**
 * The one 'upgrade' listener on the hub's HTTP server. Node hands every `Upgrade:` request to all
 * 'upgrade' listeners, so two `ws` servers attached to the same HTTP server would both answer (and the
 * second one would write a 400 onto a socket the first one already upgraded). Transports register a path
 * here instead; whatever matches no path gets a 404.
 *
 * Registration may happen before or after the listener is attached (providers register in their
 * constructors, the listener is attached at bootstrap): the table is read when a request arrives.
 */
@Injectable()
export class UpgradeRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers = new Map<string, { handler: UpgradeHandler; route: UpgradeRoute }>();
  private server: Server | undefined;
  private readonly listener = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.dispatch(request, socket, head);

  constructor(
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly httpLimits: HttpServerLimits,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `path` is matched exactly against the request's pathname (the query string is ignored). */
  register(path: string, handler: UpgradeHandler, route: UpgradeRoute = {}): void {
    if (this.handlers.has(path)) throw new Error(`an upgrade handler for ${path} is already registered`);
    this.handlers.set(path, { handler, route });
  }

  onApplicationBootstrap(): void {
    this.server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server;
    this.server.on('upgrade', this.listener);
  }

  onApplicationShutdown(): void {
    this.server?.off('upgrade', this.listener);
    this.server = undefined;
  }

  private dispatch(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until a handler takes over, a reset by the peer must not become an uncaught 'error'.
    socket.on('error', ignoreSocketError);
    const path = pathnameOf(request.url);
    const entry = path === undefined ? undefined : this.handlers.get(path);
    if (entry?.route.deviceSessions) this.httpLimits.budget.release(socket);
    else this.httpLimits.budget.upgraded(socket);
    if (!entry) {
      rejectUpgrade(socket, 404);
      return;
    }
    socket.off('error', ignoreSocketError);
    try {
      entry.handler(request, socket, head);
    } catch (error) {
      this.logger.error({ err: error, path }, 'upgrade handler failed');
      rejectUpgrade(socket, 500);
    }
  }
}

/**
 * Answers an upgrade request with a plain HTTP response and closes the socket (RFC 6455 §4.2.2: a server
 * that does not accept the handshake replies with an HTTP status other than 101). With `problem`, the body
 * is RFC 9457 Problem Details, like every other telehub HTTP error.
 */
export const rejectUpgrade = answerRawSocket;

function pathnameOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://upgrade.invalid').pathname;
  } catch {
    return undefined;
  }
}

function ignoreSocketError(): void {}
