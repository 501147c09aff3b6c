import type { MqttConnection } from './mqtt-connection.js';
import type { PublishOutcome, Qos } from './mqtt-session.types.js';
import { ReasonCode } from './reason-codes.js';

export interface ReleasedPublish {
  qos: Qos;
  messageId: number | undefined;
  /** The onPublish result, used to tell a QoS 2 id's own entry from a later one. */
  result: Promise<PublishOutcome>;
}

/**
 * Turns the hub's outcome into the acknowledgement (v5 reason code) or behaviour (v4) once the publish's turn in
 * the ack queue comes. After close nothing is written: a late commit must not touch a stream that was handed over.
 */
export function releasePublishAck(conn: MqttConnection, publish: ReleasedPublish, outcome: PublishOutcome): void {
  if (conn.state === 'closed') return;
  const v5 = conn.protocolVersion === 5;
  try {
    switch (outcome.kind) {
      case 'accepted':
        writeAck(conn, publish, ReasonCode.success);
        break;
      case 'invalid_payload':
        // 3.1.1 has no negative ack: acknowledge, or the device would resend the same bad payload forever.
        writeAck(conn, publish, v5 ? ReasonCode.payloadFormatInvalid : ReasonCode.success, outcome.message);
        break;
      case 'refused':
        writeAck(conn, publish, v5 ? outcome.reasonCode : ReasonCode.success, outcome.message);
        break;
      case 'not_authorized':
        // 3.1.1 must ack positively or close [MQTT-3.3.5-2]; QoS 0 has no ack to carry a reason code in v5 either.
        if (v5 && publish.qos !== 0) writeAck(conn, publish, ReasonCode.notAuthorized);
        else conn.close('not_authorized');
        break;
      case 'unavailable':
        // Not acknowledged: the client keeps the message and sends it again after reconnecting.
        conn.close(outcome.shuttingDown ? 'server_shutdown' : 'server_busy');
        break;
      default:
        conn.fail(new Error(`unknown publish outcome ${JSON.stringify(outcome)}`));
    }
  } catch (error) {
    conn.fail(error);
  }
}

function writeAck(conn: MqttConnection, publish: ReleasedPublish, reasonCode: number, reasonString?: string): void {
  const { qos, messageId } = publish;
  if (qos === 0 || messageId === undefined) return;
  // A Reason String goes only to clients that did not turn off Request Problem Information [MQTT-3.1.2-29].
  const withReason = reasonString !== undefined && conn.protocolVersion === 5 && conn.requestProblemInformation;
  conn.writer.write({
    cmd: qos === 1 ? 'puback' : 'pubrec',
    messageId,
    reasonCode,
    ...(withReason ? { properties: { reasonString } } : {}),
  });
  // A PUBREC with a failure code ends the QoS 2 flow: no PUBREL follows (MQTT 5 section 4.3.3).
  if (qos === 2 && reasonCode >= 0x80 && conn.awaitingRelease.get(messageId) === publish.result) {
    conn.awaitingRelease.delete(messageId);
  }
}
