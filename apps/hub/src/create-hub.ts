import type { AddressInfo } from 'node:net';
import { NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DEVICE_WS_PATH } from '@telehub/contracts';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { findAdminAssets, serveAdminAssets } from './admin-assets.js';
import { AdminTokenBootstrap, type TerminalOutput } from './admin-auth/admin-token-bootstrap.service.js';
import { AdminWsAdapter } from './admin-channel/admin-ws.adapter.js';
import { ListeningPorts } from './common/listening-ports.js';
import { ProblemDetailsFilter, sendProblem } from './common/problem-details.filter.js';
import { securityHeaders } from './common/security-headers.js';
import { createValidationPipe } from './common/validation.js';
import type { HubConfig } from './config/hub-config.js';
import { type HubDatabase, openDatabase } from './database/open-database.js';
import { RequestBodyInterceptor } from './http-server/request-body.interceptor.js';
import { HubModule } from './hub.module.js';
import { hubVersion } from './hub-version.js';
import { NestLoggerAdapter } from './logging/nest-logger.adapter.js';
import { requestLogging } from './logging/request-logging.js';
import { MetricsListener } from './metrics/metrics.listener.js';
import { setupOpenApi } from './openapi/setup-openapi.js';
import { DeviceShutdown } from './transports/device-shutdown.service.js';
import { MQTT_WEBSOCKET_PATH, MqttListener } from './transports/mqtt/mqtt.listener.js';
import { requireProxyHeader } from './transports/proxy-protocol/proxy-header.gate.js';

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
  // With a certificate configured, the HTTP port serves HTTPS and WSS (device WebSocket, MQTT over WebSocket).
  // Passed to https.createServer as it is; a TLS handshake that never finishes is a connection that sends no
  // headers, so it gets the same timeout.
  const tls = config.devices.tls;
  const httpsOptions = tls && { cert: tls.cert, key: tls.key, handshakeTimeout: config.http.headersTimeoutMs };
  try {
    const app = await NestFactory.create<NestExpressApplication>(HubModule.forRoot(config, logger, database), {
      logger: new NestLoggerAdapter(logger),
      bodyParser: false,
      abortOnError: false,
      httpsOptions,
    });
    app.disable('x-powered-by');
    app.use(requestLogging(logger));
    app.use(securityHeaders({ tls: Boolean(config.devices.tls) }));
    // Bodies are read after authentication, with the route's limit (RequestBodyInterceptor), never app-wide.
    app.useGlobalInterceptors(new RequestBodyInterceptor(app.get(Reflector), config));
    // Errors raised by Express middleware before Nest routing; answer them as Problem Details too.
    app.use((error: unknown, request: Request, response: Response, _next: NextFunction) =>
      sendProblem(error, request, response, logger),
    );
    app.useGlobalFilters(new ProblemDetailsFilter(logger));
    // `@Body/@Query/@Param({ schema })` are validated by Nest's StandardSchemaValidationPipe, refusing as Problem Details.
    app.useGlobalPipes(createValidationPipe());
    const adminAssets = findAdminAssets();
    if (adminAssets) serveAdminAssets(app, adminAssets);
    setupOpenApi(app, hubVersion());
    app.useWebSocketAdapter(
      new AdminWsAdapter(app, {
        maxMessageBytes: config.adminChannel.maxMessageBytes,
        maxJsonDepth: config.payloads.jsonMaxDepth,
      }),
    );
    await app.init();
    // The listeners are bound now (ephemeral ports too), before the HTTP port takes connections.
    const mqtt = app.get(MqttListener);
    app.get(ListeningPorts).setMqtt(mqtt.tcpPort, mqtt.tlsPort);
    await app.get(AdminTokenBootstrap).ensureAdminToken(options.terminal);
    if (config.proxyProtocol.enabled) {
      requireProxyHeader(app.getHttpServer(), {
        timeoutMs: config.proxyProtocol.headerTimeoutMs,
        onRefused: (reason, socket) => logger.debug({ remoteAddress: socket.remoteAddress }, reason),
      });
    }
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
        await app.get(DeviceShutdown).run();
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
