import type { IPubrelPacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import { ReasonCode } from '../reason-codes.js';

/** PUBREL releases a QoS 2 packet id: answer PUBCOMP and forget it [MQTT-4.3.3-2] [MQTT-3.6.4-1]. */
export function handlePubrel(conn: MqttConnection, packet: IPubrelPacket): void {
  const messageId = packet.messageId;
  if (messageId === undefined) {
    conn.close('malformed_packet', 'PUBREL without packet id');
    return;
  }
  const known = conn.awaitingRelease.delete(messageId);
  const reasonCode = known || conn.protocolVersion !== 5 ? ReasonCode.success : ReasonCode.packetIdentifierNotFound;
  // Queued behind pending PUBACK/PUBRECs so the PUBCOMP can never overtake the PUBREC of the same id.
  conn.acks.push(() => {
    if (conn.state !== 'closed') conn.writer.write({ cmd: 'pubcomp', messageId, reasonCode });
  });
}
