import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConnection } from './mqtt-connection.js';
import { MqttSessionError } from './mqtt-session.error.js';
import type { OutboundDelivery, OutboundMessage } from './mqtt-session.types.js';

/**
 * Server-to-client PUBLISH (commands). Returns the packet id for QoS 1, undefined for QoS 0. A resend of what an
 * earlier connection of the session left unacknowledged keeps its packet id and sets DUP [MQTT-4.4.0-1]
 * [MQTT-3.3.1-1]; QoS 0 never sets DUP [MQTT-3.3.1-2].
 */
export function publishToClient(
  conn: MqttConnection,
  message: OutboundMessage,
  tag: unknown,
  delivery: OutboundDelivery = {},
): number | undefined {
  if (conn.state !== 'connected') {
    throw new MqttSessionError('ERR_SESSION_NOT_CONNECTED', `session is ${conn.state}`);
  }
  if (message.qos !== 0 && message.qos !== 1) {
    throw new MqttSessionError('ERR_INVALID_QOS', `outbound QoS must be 0 or 1, got ${String(message.qos)}`);
  }
  // Never more unacknowledged QoS 1 publishes than the client's Receive Maximum [MQTT-3.3.4-9].
  if (message.qos === 1 && conn.outbound.size >= conn.clientReceiveMaximum) {
    throw new MqttSessionError('ERR_RECEIVE_MAXIMUM_REACHED', `${conn.outbound.size} publishes await PUBACK`);
  }
  const messageId = message.qos === 1 ? takePacketId(conn, tag, delivery.packetId) : undefined;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos: message.qos,
    dup: message.qos === 1 && (delivery.dup === true || delivery.packetId !== undefined),
    retain: false,
    ...(messageId === undefined ? {} : { messageId }),
  };
  if (conn.protocolVersion === 5 && message.properties) packet.properties = definedOnly(message.properties);
  let bytes: Buffer;
  try {
    bytes = conn.writer.encode(packet);
  } catch (error) {
    if (messageId !== undefined) conn.outbound.release(messageId);
    throw error;
  }
  // A packet above the client's Maximum Packet Size must not be sent [MQTT-3.1.2-25].
  if (conn.clientMaximumPacketSize !== undefined && bytes.length > conn.clientMaximumPacketSize) {
    if (messageId !== undefined) conn.outbound.release(messageId);
    throw new MqttSessionError('ERR_PACKET_TOO_LARGE_FOR_CLIENT', `${bytes.length} bytes exceed the client's limit`);
  }
  conn.writer.writeEncoded(bytes);
  return messageId;
}

function takePacketId(conn: MqttConnection, tag: unknown, restored: number | undefined): number {
  if (restored !== undefined) {
    if (!conn.outbound.resend(restored, tag)) {
      throw new MqttSessionError('ERR_PACKET_ID_NOT_RESTORED', `packet id ${restored} is not awaiting its resend`);
    }
    return restored;
  }
  const messageId = conn.outbound.allocate(tag);
  if (messageId === undefined) {
    throw new MqttSessionError('ERR_PACKET_IDS_EXHAUSTED', 'all 65535 packet ids await PUBACK');
  }
  return messageId;
}

/** mqtt-packet encodes every own key, so keys set to undefined must not reach it. */
function definedOnly<T extends object>(properties: T): Partial<T> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined)) as Partial<T>;
}
