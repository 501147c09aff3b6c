import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { DeviceAuthModule } from '../device-auth/device-auth.module.js';
import { HttpServerModule } from '../http-server/http-server.module.js';
import { DeviceSessionsModule } from '../sessions/device-sessions.module.js';
import { DeviceGateway } from './device-gateway.service.js';
import { DeviceHttpController } from './http/device-http.controller.js';
import { MqttListener } from './mqtt/mqtt.listener.js';
import { UpgradeRouter } from './upgrade-router.js';
import { DeviceWsListener } from './ws/device-ws.listener.js';

/** The ways devices reach the hub: MQTT (TCP, TLS, WebSocket), JSON over WebSocket, HTTP. */
@Module({
  imports: [DeviceAuthModule, DeviceSessionsModule, CommandsModule, HttpServerModule],
  controllers: [DeviceHttpController],
  providers: [UpgradeRouter, MqttListener, DeviceWsListener, DeviceGateway],
  exports: [DeviceGateway, UpgradeRouter, MqttListener],
})
export class TransportsModule {}
