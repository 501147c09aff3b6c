import type { MqttConnection } from '../mqtt-connection.js';

/** PINGREQ is answered at once, not queued behind pending PUBACKs, so a slow commit never looks like a dead server. */
export function handlePingreq(conn: MqttConnection): void {
  conn.writer.write({ cmd: 'pingresp' }); // [MQTT-3.12.4-1]
}
