import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { answerClientError } from './http-client-errors.js';
import { HttpConnectionBudget } from './http-connection-budget.js';
import { closeUnreadBodyAfter } from './unread-body.js';

/**
 * The HTTP port's limits, set on the server before it listens: its connection budget, how long a client may
 * take to send a request's headers and its whole request, how long an idle keep-alive connection stays open
 * (and a body that was refused keeps arriving), and `Expect: 100-continue` left to the body readers, so a client
 * that waits for it is answered (401, 413) before it sends a body the hub would not read.
 */
@Injectable()
export class HttpServerLimits implements OnApplicationBootstrap {
  readonly budget: HttpConnectionBudget;

  constructor(
    private readonly httpAdapterHost: HttpAdapterHost,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    metrics: HubMetrics,
  ) {
    // A tenth of the header timeout: far more than a client needs to send its request once connected.
    const graceMs = config.http.headersTimeoutMs / 10;
    this.budget = new HttpConnectionBudget(config.http.maxConnections, graceMs, {
      size: (count) => metrics.httpConnections.set(count),
      dropped: (reason) => metrics.httpConnectionsDropped.inc({ reason }),
    });
  }

  onApplicationBootstrap(): void {
    const server = this.httpAdapterHost.httpAdapter.getHttpServer() as Server & {
      connectionsCheckingInterval: number;
    };
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = this.config.http;
    server.headersTimeout = headersTimeoutMs;
    server.requestTimeout = requestTimeoutMs;
    server.keepAliveTimeout = keepAliveTimeoutMs;
    // Node checks both timeouts on this interval, read when the server starts listening; at its default (30 s)
    // a 10 s header timeout could last 40 s.
    server.connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4)));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      answerClientError(error, socket, this.config.http),
    );
    // Without a listener Node answers 100 Continue at once; with it, the request is handled like any other and
    // whoever reads the body sends 100 Continue first (RFC 9110 §10.1.1).
    server.on('checkContinue', (request, response) => server.emit('request', request, response));
    server.on('request', (request, response) => closeUnreadBodyAfter(request, response, keepAliveTimeoutMs));
    this.budget.attach(server);
  }
}
