import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication, NestExpressBodyParserOptionsFor } from '@nestjs/platform-express';
import { jsonTextTooDeep } from '@telehub/contracts';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { findAdminAssets, serveAdminAssets } from './admin-assets.js';
import { AdminTokenBootstrap, type TerminalOutput } from './admin-auth/admin-token-bootstrap.service.js';
import { ApiError } from './common/api-error.js';
import { ProblemDetailsFilter, sendProblem } from './common/problem-details.filter.js';
import { securityHeaders } from './common/security-headers.js';
import type { HubConfig } from './config/hub-config.js';
import { type HubDatabase, openDatabase } from './database/open-database.js';
import { HubModule } from './hub.module.js';
import { hubVersion } from './hub-version.js';
import { NestLoggerAdapter } from './logging/nest-logger.adapter.js';
import { requestLogging } from './logging/request-logging.js';
import { MetricsListener } from './metrics/metrics.listener.js';
import { setupOpenApi } from './openapi/setup-openapi.js';
import { DeviceGateway } from './transports/device-gateway.service.js';
import { readsOwnBody } from './transports/http/device-http.body.js';
import { MQTT_WEBSOCKET_PATH, MqttListener } from './transports/mqtt/mqtt.listener.js';
import { DEVICE_WS_PATH } from './transports/ws/device-ws.frames.js';

export interface Hub {
  readonly app: NestExpressApplication;
  readonly database: HubDatabase;
  readonly httpPort: number;
  /** The plain MQTT/TCP port (undefined when plain listeners are off). */
  readonly mqttPort: number | undefined;
  /** The port of /metrics when it has its own (TELEHUB_METRICS_PORT); undefined when it is on the HTTP port. */
  readonly metricsPort: number | undefined;
  /** Graceful stop: listeners and sessions first, then the pool, then the embedded database. */
  close(): Promise<void>;
}

export interface CreateHubOptions {
  /** Where the first-start admin token banner goes, if it is a terminal (default: stdout). */
  terminal?: TerminalOutput;
}

export async function createHub(config: HubConfig, logger: Logger, options: CreateHubOptions = {}): Promise<Hub> {
  const database = await openDatabase(config, logger);
  try {
    const app = await NestFactory.create<NestExpressApplication>(HubModule.forRoot(config, logger, database), {
      logger: new NestLoggerAdapter(logger),
      bodyParser: false,
      abortOnError: false,
      // With a certificate configured, the HTTP port serves HTTPS and WSS (device WebSocket, MQTT over WebSocket).
      httpsOptions: config.devices.tls ? { cert: config.devices.tls.cert, key: config.devices.tls.key } : undefined,
    });
    app.disable('x-powered-by');
    app.use(requestLogging(logger));
    app.use(securityHeaders({ tls: Boolean(config.devices.tls) }));
    // The device ingest routes read their own bodies (device message limit, after the token check).
    const parsedHere = (types: string[]) => (request: IncomingMessage) =>
      !readsOwnBody(request) && Boolean((request as Request).is(types));
    // Nest passes these options to Express's json parser as they are; its type leaves out `verify`, which runs
    // on the raw body before parsing: nesting is measured there, since what follows (validation, serialization)
    // recurses.
    const jsonOptions = {
      type: parsedHere(['application/json']),
      limit: config.http.maxRequestBytes,
      verify: (_request: IncomingMessage, _response: unknown, body: Buffer) => {
        if (jsonTextTooDeep(body.toString('utf8'), config.payloads.jsonMaxDepth)) {
          throw new ApiError(
            400,
            'json_too_deep',
            'JSON nested too deep',
            `the body nests deeper than ${config.payloads.jsonMaxDepth} levels (TELEHUB_JSON_MAX_DEPTH)`,
          );
        }
      },
    };
    app.useBodyParser('json', jsonOptions as NestExpressBodyParserOptionsFor<'json'>);
    app.useBodyParser('text', { type: parsedHere(['text/csv', 'text/plain']), limit: config.http.maxRequestBytes });
    // Body-parser errors (too large, malformed JSON) happen before Nest routing; answer them as Problem Details too.
    app.use((error: unknown, request: Request, response: Response, _next: NextFunction) =>
      sendProblem(error, request, response, logger),
    );
    app.useGlobalFilters(new ProblemDetailsFilter(logger));
    const adminAssets = findAdminAssets();
    if (adminAssets) serveAdminAssets(app, adminAssets);
    setupOpenApi(app, hubVersion());
    await app.init();
    await app.get(AdminTokenBootstrap).ensureAdminToken(options.terminal);
    await app.listen(config.http.port, config.http.host);
    const httpPort = (app.getHttpServer().address() as AddressInfo).port;
    // With TLS the HTTP port speaks only TLS: print the URLs a client must use.
    const [web, socket] = config.devices.tls ? ['https', 'wss'] : ['http', 'ws'];
    logger.info({ port: httpPort, host: config.http.host }, `HTTP API listening on ${web}://localhost:${httpPort}`);
    logger.info(
      { port: httpPort },
      `device WebSocket on ${socket}://localhost:${httpPort}${DEVICE_WS_PATH}, MQTT over WebSocket on ${socket}://localhost:${httpPort}${MQTT_WEBSOCKET_PATH}`,
    );
    return {
      app,
      database,
      httpPort,
      mqttPort: app.get(MqttListener).tcpPort,
      metricsPort: app.get(MetricsListener).port,
      close: async () => {
        await app.get(DeviceGateway).shutdown();
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
