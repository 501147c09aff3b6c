import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE } from '@telehub/contracts';
import type { Logger } from 'pino';
import { ApiError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from './hub-metrics.js';
import { MetricsAccess } from './metrics-access.service.js';

export const METRICS_PATH = '/metrics';

/**
 * /metrics on a port of its own (TELEHUB_METRICS_PORT), bound to TELEHUB_METRICS_HOST, so that it can be
 * reached from a monitoring network and not from where devices and admins come. It answers nothing else.
 * HTTPS when the hub has a certificate, like the HTTP port. Few connections and short timeouts: a scraper
 * sends one small request every few seconds, and nothing on this port may hold the hub's descriptors.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnModuleDestroy {
  private server: Server | undefined;
  /** The port /metrics is served on, when it has its own; undefined when it is on the HTTP port. */
  port: number | undefined;

  constructor(
    private readonly metrics: HubMetrics,
    private readonly access: MetricsAccess,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { metrics, devices } = this.config;
    if (metrics.port === undefined) return;
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.answer(request, response);
    const server = devices.tls
      ? createHttpsServer({ cert: devices.tls.cert, key: devices.tls.key }, handler)
      : createServer(handler);
    server.maxConnections = metrics.maxConnections;
    server.headersTimeout = metrics.timeoutMs;
    server.requestTimeout = metrics.timeoutMs;
    this.server = server;
    this.port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(metrics.port, metrics.host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : (metrics.port ?? 0));
      });
    });
    const scheme = devices.tls ? 'https' : 'http';
    this.logger.info(
      { port: this.port, host: metrics.host, auth: metrics.auth },
      `metrics on ${scheme}://${metrics.host}:${this.port}${METRICS_PATH} (TELEHUB_METRICS_AUTH=${metrics.auth})`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // A scraper keeps its connection open between scrapes; without this, close() would wait for it.
      server.closeAllConnections();
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    const path = request.url?.split('?', 1)[0];
    if (path !== METRICS_PATH) {
      return problem(response, path, ApiError.notFound('route_not_found', `this port serves ${METRICS_PATH} only`));
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const error = new ApiError(405, 'method_not_allowed', 'Method not allowed', 'GET /metrics', undefined, {
        Allow: 'GET, HEAD',
      });
      return problem(response, path, error);
    }
    try {
      const refusal = await this.access.refusal(request.headers.authorization, request.socket.remoteAddress);
      if (refusal) return problem(response, path, refusal);
      const text = await this.metrics.text();
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(request.method === 'HEAD' ? undefined : text);
    } catch (error) {
      this.logger.error({ err: error }, 'metrics scrape failed');
      problem(response, path, new ApiError(500, 'internal_error', 'Internal server error', 'see the hub log'));
    }
  }
}

/** The same RFC 9457 answer the HTTP port gives. */
function problem(response: ServerResponse, path: string | undefined, error: ApiError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(error.status, { ...error.headers, 'Content-Type': PROBLEM_CONTENT_TYPE });
  response.end(JSON.stringify(error.toProblem(path)));
}
