import type { IUnsubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import { ReasonCode } from '../reason-codes.js';

/**
 * UNSUBSCRIBE is always answered with UNSUBACK [MQTT-3.10.4-4]; MQTT 5 adds one reason code per filter. A session
 * kept beyond the connection answers once the store has saved what remains.
 */
export function handleUnsubscribe(conn: MqttConnection, packet: IUnsubscribePacket): void {
  const messageId = packet.messageId;
  if (messageId === undefined) {
    conn.close('malformed_packet', 'UNSUBSCRIBE without packet id');
    return;
  }
  const granted = packet.unsubscriptions.map((filter) =>
    conn.removeSubscription(filter) ? ReasonCode.success : ReasonCode.noSubscriptionExisted,
  );
  const answer = () => {
    if (conn.state !== 'closed') conn.writer.write({ cmd: 'unsuback', messageId, granted });
  };
  if (!conn.sessionKept || !granted.includes(ReasonCode.success)) {
    answer();
    return;
  }
  conn.acks.track(conn.saveSubscriptions(), answer, (error: unknown) => {
    conn.close('server_unavailable', `session store: ${error instanceof Error ? error.message : String(error)}`);
  });
}
