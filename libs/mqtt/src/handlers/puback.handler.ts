import type { IPubackPacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';

/** PUBACK for a QoS 1 publish this server sent: free the packet id and tell the hub. */
export function handlePuback(conn: MqttConnection, packet: IPubackPacket): void {
  const messageId = packet.messageId;
  if (messageId === undefined) return;
  const { found, tag } = conn.outbound.release(messageId);
  // An unknown id (a duplicate PUBACK) is ignored: there is nothing left to complete.
  if (!found) return;
  conn.hooks.onOutboundAck?.(conn.session, messageId, tag, packet.reasonCode ?? 0);
}
