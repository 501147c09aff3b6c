import type { ISubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import type { Qos } from '../mqtt-session.types.js';
import { ReasonCode, SUBACK_FAILURE_V4 } from '../reason-codes.js';
import { hasWildcard, isSharedSubscription, isValidTopicFilter } from '../topic-validation.js';

/**
 * Each filter goes through authorizeSubscribe; the SUBACK carries one code per filter in order [MQTT-3.8.4-5].
 * onSubscribed runs after the SUBACK is written, so a command published from it reaches the client after its SUBACK.
 */
export function handleSubscribe(conn: MqttConnection, packet: ISubscribePacket): void {
  const messageId = packet.messageId;
  if (messageId === undefined) {
    conn.close('malformed_packet', 'SUBSCRIBE without packet id');
    return;
  }
  // CONNACK said Subscription Identifiers Available = 0.
  const identifiersUsed = packet.properties?.subscriptionIdentifier !== undefined;
  const granted: number[] = [];
  const added: Array<[string, 0 | 1]> = [];
  for (const { topic: filter, qos } of packet.subscriptions) {
    const code = identifiersUsed
      ? failure(conn, ReasonCode.subscriptionIdentifiersNotSupported)
      : decide(conn, filter, qos);
    granted.push(code);
    if (code === 0 || code === 1) added.push([filter, code]);
  }
  for (const [filter, qos] of added) conn.subscriptions.set(filter, qos);
  conn.writer.write({ cmd: 'suback', messageId, granted });
  for (const [filter, qos] of added) conn.hooks.onSubscribed?.(conn.session, filter, qos);
}

function decide(conn: MqttConnection, filter: string, requested: Qos): number {
  if (!isValidTopicFilter(filter)) return failure(conn, ReasonCode.topicFilterInvalid);
  if (conn.protocolVersion === 5 && isSharedSubscription(filter)) {
    return failure(conn, ReasonCode.sharedSubscriptionsNotSupported);
  }
  // CONNACK said Wildcard Subscription Available = 0; 3.1.1 clients get the same answer, without the reason.
  if (hasWildcard(filter)) return failure(conn, ReasonCode.wildcardSubscriptionsNotSupported);
  const decision = conn.hooks.authorizeSubscribe(conn.session, filter, requested);
  if (!decision.granted) return failure(conn, ReasonCode.notAuthorized);
  return Math.min(requested, decision.qos);
}

function failure(conn: MqttConnection, v5ReasonCode: number): number {
  return conn.protocolVersion === 5 ? v5ReasonCode : SUBACK_FAILURE_V4;
}
