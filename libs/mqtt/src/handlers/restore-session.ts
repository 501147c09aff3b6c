import type { MqttConnection } from '../mqtt-connection.js';
import type { StoredSession } from '../session-store.js';
import { hasWildcard, isSharedSubscription, isValidTopicFilter } from '../topic-validation.js';

const MAX_PACKET_ID = 0xffff;

/**
 * Takes over an earlier session's state: its subscriptions, each asked of authorizeSubscribe again (the server may
 * have narrowed access since), up to maxSubscriptions; and the packet ids of its unacknowledged publishes, kept for
 * their resend [MQTT-4.4.0-1]. What the store hands back is trusted no further than a SUBSCRIBE would be.
 */
export function restoreSession(conn: MqttConnection, stored: StoredSession): void {
  for (const { filter, qos } of stored.subscriptions) {
    if (conn.subscriptions.size >= conn.maxSubscriptions) break;
    if (!isValidTopicFilter(filter) || hasWildcard(filter) || isSharedSubscription(filter)) continue;
    if (qos !== 0 && qos !== 1) continue;
    const decision = conn.hooks.authorizeSubscribe(conn.session, filter, qos);
    if (decision.granted) conn.grantSubscription(filter, Math.min(qos, decision.qos) as 0 | 1);
  }
  for (const { packetId, tag } of stored.unacknowledged) {
    if (Number.isInteger(packetId) && packetId >= 1 && packetId <= MAX_PACKET_ID) conn.outbound.restore(packetId, tag);
  }
}
