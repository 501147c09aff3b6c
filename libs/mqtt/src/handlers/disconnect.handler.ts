import type { IDisconnectPacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import { ReasonCode } from '../reason-codes.js';

/**
 * A client DISCONNECT is a graceful close: the will is discarded [MQTT-3.14.4-3], unless an MQTT 5 client asks
 * for it with reason 0x04 (Disconnect with Will Message).
 */
export function handleDisconnect(conn: MqttConnection, packet: IDisconnectPacket): void {
  if (packet.reasonCode !== ReasonCode.disconnectWithWill) conn.will = undefined;
  conn.close('client_disconnect');
}
