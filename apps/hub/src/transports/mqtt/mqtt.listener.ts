import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MqttSession, type MqttSessionOptions } from '@telehub/mqtt';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { HUB_CONFIG, type HubConfig } from '../../config/hub-config.js';
import { LOGGER } from '../../logging/logger.token.js';
import { PersistentMqttSessions } from '../../mqtt-sessions/persistent-mqtt-sessions.js';
import type { DeviceTransport } from '../../sessions/device-connection.js';
import type { DeviceListener } from '../device-listener.js';
import { DevicePort } from '../device-port.js';
import { requireProxyHeader } from '../proxy-protocol/proxy-header.gate.js';
import { rejectUpgrade, UpgradeRouter } from '../upgrade-router.js';
import { DeviceMqttHooks, type DeviceMqttServices } from './device-mqtt.hooks.js';

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/**
 * MQTT on TCP, on TLS (when a certificate is configured) and over WebSocket at /mqtt (subprotocol
 * `mqtt`, as MQTT.js and Paho use it). Each connection becomes one MqttSession from @telehub/mqtt.
 */
@Injectable()
export class MqttListener implements DeviceListener, OnApplicationBootstrap {
  private readonly servers: Server[] = [];
  private readonly wsServer: WebSocketServer;
  private accepting = true;
  private readonly services: DeviceMqttServices;
  private readonly sessionOptions: MqttSessionOptions;
  tcpPort: number | undefined;
  tlsPort: number | undefined;

  constructor(
    private readonly port: DevicePort,
    upgrades: UpgradeRouter,
    sessionStore: PersistentMqttSessions,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.services = { port, maxJsonDepth: config.payloads.jsonMaxDepth };
    this.sessionOptions = {
      maxPacketSize: config.devices.maxMessageBytes,
      connectTimeoutMs: config.devices.connectTimeoutMs,
      keepAliveGraceFactor: 1.5, // [MQTT-3.1.2-24]
      closeGraceMs: config.devices.closeGraceMs,
      sessionStore,
      sessionExpiryMaxSeconds: config.mqtt.sessionExpiryMaxSeconds,
      maxSubscriptions: config.mqtt.maxSubscriptions,
    };
    this.wsServer = new WebSocketServer({
      noServer: true,
      maxPayload: config.devices.maxMessageBytes + 16,
      perMessageDeflate: config.devices.perMessageDeflate,
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
    });
    upgrades.register(MQTT_WEBSOCKET_PATH, (request, socket, head) => this.upgrade(request, socket, head), {
      deviceSessions: true,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { devices, mqtt, http } = this.config;
    if (devices.plainListeners) {
      this.tcpPort = await this.listen(
        createServer((socket) => this.accept(socket, 'mqtt')),
        mqtt.port,
        http.host,
      );
      this.logger.info({ port: this.tcpPort }, `MQTT listening on mqtt://localhost:${this.tcpPort}`);
    }
    if (devices.tls) {
      // A TLS handshake that never finishes holds a place like a missing CONNECT does: the same timeout.
      const tlsOptions = { cert: devices.tls.cert, key: devices.tls.key, handshakeTimeout: devices.connectTimeoutMs };
      const tlsServer = createTlsServer(tlsOptions, (socket) => this.accept(socket, 'mqtt-tls'));
      this.tlsPort = await this.listen(tlsServer, devices.mqttTlsPort, http.host);
      this.logger.info({ port: this.tlsPort }, `MQTT over TLS listening on mqtts://localhost:${this.tlsPort}`);
    }
  }

  async stopAccepting(): Promise<void> {
    this.accepting = false;
    // server.close() stops accepting and resolves once existing connections end; don't wait for that here.
    for (const server of this.servers) server.close();
    this.wsServer.close();
  }

  private accept(stream: Duplex, transport: DeviceTransport, remoteAddress = (stream as Socket).remoteAddress): void {
    const release = this.accepting ? this.port.reserveHandshake() : undefined;
    if (!release) {
      stream.destroy();
      return;
    }
    if ('setNoDelay' in stream) (stream as Socket).setNoDelay(true);
    this.open(stream, transport, remoteAddress, release);
  }

  private open(stream: Duplex, transport: DeviceTransport, remoteAddress: string | undefined, release: () => void) {
    const hooks = new DeviceMqttHooks(this.services, transport, remoteAddress, release);
    new MqttSession(stream, this.sessionOptions, hooks);
  }

  /** A place among TELEHUB_MAX_CONNECTIONS is taken before the handshake: from here on it is a device session. */
  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.accepting) {
      socket.destroy();
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
    // A handshake that ws refuses (400) never reaches the callback: the place is given back when the socket closes.
    socket.once('close', release);
    this.wsServer.handleUpgrade(request, socket, head, (websocket) => {
      const stream = createWebSocketStream(websocket);
      // A failed socket ends the session through the stream; the error itself needs no handler beyond that.
      stream.on('error', () => undefined);
      this.open(stream, 'mqtt-ws', request.socket.remoteAddress, release);
    });
  }

  private listen(server: Server, port: number, host: string): Promise<number> {
    this.servers.push(server);
    const { proxyProtocol } = this.config;
    if (proxyProtocol.enabled) {
      requireProxyHeader(server, {
        timeoutMs: proxyProtocol.headerTimeoutMs,
        onRefused: (reason, socket) => this.logger.debug({ remoteAddress: socket.remoteAddress }, reason),
      });
    }
    server.maxConnections = this.config.devices.maxConnections;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }
}
