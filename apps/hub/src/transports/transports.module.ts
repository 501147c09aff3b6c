import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { DeviceAuthModule } from '../device-auth/device-auth.module.js';
import { HttpServerModule } from '../http-server/http-server.module.js';
import { IngestModule } from '../ingest/ingest.module.js';
import { MqttSessionsModule } from '../mqtt-sessions/mqtt-sessions.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DevicePort } from './device-port.js';
import { DeviceShutdown } from './device-shutdown.service.js';
import { DeviceHttpController } from './http/device-http.controller.js';
import { HttpRateLimit } from './http/http-rate-limit.js';
import { MqttListener } from './mqtt/mqtt.listener.js';
import { UpgradeRouter } from './upgrade-router.js';
import { DeviceWsListener } from './ws/device-ws.listener.js';

/**
 * The ways devices reach the hub: MQTT (TCP, TLS, WebSocket), JSON over WebSocket, HTTP. Each reaches the rest
 * of the hub through DevicePort only.
 */
@Module({
  imports: [DeviceAuthModule, DeviceSessionsModule, IngestModule, CommandsModule, HttpServerModule, MqttSessionsModule],
  controllers: [DeviceHttpController],
  providers: [DevicePort, HttpRateLimit, UpgradeRouter, MqttListener, DeviceWsListener, DeviceShutdown],
  exports: [DeviceShutdown, UpgradeRouter, MqttListener],
})
export class TransportsModule {}
