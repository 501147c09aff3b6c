import type { ISubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import type { Qos } from '../mqtt-session.types.js';
import { ReasonCode, SUBACK_FAILURE_V4 } from '../reason-codes.js';
import { hasWildcard, isSharedSubscription, isValidTopicFilter } from '../topic-validation.js';

/**
 * Each filter goes through authorizeSubscribe; the SUBACK carries one code per filter in order [MQTT-3.8.4-5].
 * onSubscribed runs after the SUBACK is written, so a command published from it reaches the client after its SUBACK.
 * A session kept beyond the connection answers once the store has saved the new subscriptions, so a granted
 * subscription survives a restart of the server; the SUBACK then waits its turn behind earlier acknowledgements.
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
    if (code === 0 || code === 1) {
      added.push([filter, code]);
      // A subscription to a filter already held replaces it [MQTT-3.8.4-3], so it does not count twice.
      conn.grantSubscription(filter, code);
    }
  }
  const answer = () => {
    if (conn.state === 'closed') return;
    conn.writer.write({ cmd: 'suback', messageId, granted });
    for (const [filter, qos] of added) conn.hooks.onSubscribed?.(conn.session, filter, qos);
  };
  if (!conn.sessionKept || added.length === 0) {
    answer();
    return;
  }
  conn.acks.track(conn.saveSubscriptions(), answer, (error: unknown) => {
    // Not kept, so not granted: the client hears of it as of a server that is not available.
    conn.close('server_unavailable', `session store: ${error instanceof Error ? error.message : String(error)}`);
  });
}

function decide(conn: MqttConnection, filter: string, requested: Qos): number {
  if (!isValidTopicFilter(filter)) return failure(conn, ReasonCode.topicFilterInvalid);
  if (conn.protocolVersion === 5 && isSharedSubscription(filter)) {
    return failure(conn, ReasonCode.sharedSubscriptionsNotSupported);
  }
  // CONNACK said Wildcard Subscription Available = 0; 3.1.1 clients get the same answer, without the reason.
  if (hasWildcard(filter)) return failure(conn, ReasonCode.wildcardSubscriptionsNotSupported);
  // Each session holds at most maxSubscriptions filters, so a hostile client cannot make its stored session grow.
  if (!conn.subscriptions.has(filter) && conn.subscriptions.size >= conn.maxSubscriptions) {
    return failure(conn, ReasonCode.quotaExceeded);
  }
  const decision = conn.hooks.authorizeSubscribe(conn.session, filter, requested);
  if (!decision.granted) return failure(conn, ReasonCode.notAuthorized);
  return Math.min(requested, decision.qos);
}

function failure(conn: MqttConnection, v5ReasonCode: number): number {
  return conn.protocolVersion === 5 ? v5ReasonCode : SUBACK_FAILURE_V4;
}
