import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import type { InboundMessage, PublishOutcome, Qos } from '../mqtt-session.types.js';
import { releasePublishAck } from '../publish-outcome.js';
import { isValidTopicName } from '../topic-validation.js';

/**
 * Inbound PUBLISH. onPublish is called at once and the packet's acknowledgement joins the session's ordered ack
 * queue, so the next PUBLISH can be handled while this one is still being stored: several publishes of one
 * session share a batch commit, and acks still leave in arrival order.
 */
export function handlePublish(conn: MqttConnection, packet: IPublishPacket): void {
  // CONNACK advertised Topic Alias Maximum 0, so any alias is invalid [MQTT-3.2.2-18].
  if (packet.properties?.topicAlias !== undefined) {
    conn.close('topic_alias_invalid');
    return;
  }
  if (!isValidTopicName(packet.topic)) {
    conn.close('protocol_error', 'invalid topic name'); // [MQTT-3.3.2-2] [MQTT-4.7.3-1]
    return;
  }
  const qos = packet.qos;
  const messageId = packet.messageId;
  if (qos === 2 && messageId !== undefined) {
    const earlier = conn.awaitingRelease.get(messageId);
    if (earlier) {
      // Until PUBREL, the same packet id is acknowledged again with PUBREC but not delivered again [MQTT-4.3.3-2].
      track(conn, qos, messageId, earlier);
      return;
    }
  }
  const result = callOnPublish(conn, toMessage(packet));
  track(conn, qos, messageId, result);
  if (qos === 2 && messageId !== undefined) conn.awaitingRelease.set(messageId, result);
}

function track(conn: MqttConnection, qos: Qos, messageId: number | undefined, result: Promise<PublishOutcome>): void {
  conn.acks.track(
    result,
    (outcome) => releasePublishAck(conn, { qos, messageId, result }, outcome),
    (error) => conn.fail(error),
  );
}

function callOnPublish(conn: MqttConnection, message: InboundMessage): Promise<PublishOutcome> {
  try {
    return Promise.resolve(conn.hooks.onPublish(conn.session, message));
  } catch (error) {
    return Promise.reject(error);
  }
}

function toMessage(packet: IPublishPacket): InboundMessage {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const message: InboundMessage = { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain };
  if (packet.properties) message.properties = { ...packet.properties };
  return message;
}
