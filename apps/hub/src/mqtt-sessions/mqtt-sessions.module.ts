import { Module } from '@nestjs/common';
import { MqttSessionExpirySweeper } from './mqtt-session-expiry.sweeper.js';
import { PersistentMqttSessions } from './persistent-mqtt-sessions.js';

/** MQTT sessions that outlive their connection: kept in the database, deleted once expired. */
@Module({
  providers: [PersistentMqttSessions, MqttSessionExpirySweeper],
  exports: [PersistentMqttSessions],
})
export class MqttSessionsModule {}
