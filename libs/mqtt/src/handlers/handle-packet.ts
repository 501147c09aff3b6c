import type { Packet } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import { handleConnect } from './connect.handler.js';
import { handleDisconnect } from './disconnect.handler.js';
import { handlePingreq } from './pingreq.handler.js';
import { handlePuback } from './puback.handler.js';
import { handlePublish } from './publish.handler.js';
import { handlePubrel } from './pubrel.handler.js';
import { handleSubscribe } from './subscribe.handler.js';
import { handleUnsubscribe } from './unsubscribe.handler.js';

/** Routes one parsed packet to its handler. Handlers never throw: hook failures close only this connection. */
export function handlePacket(conn: MqttConnection, packet: Packet): void {
  try {
    dispatch(conn, packet);
  } catch (error) {
    conn.fail(error);
  }
}

/** Packets that carry a Packet Identifier (PUBLISH only at QoS 1 and 2) must carry a valid one. */
function hasValidPacketId(packet: Packet): boolean {
  const carriesId = packet.cmd === 'publish' ? packet.qos > 0 : 'messageId' in packet;
  if (!carriesId) return true;
  const id = (packet as { messageId?: number }).messageId;
  return Number.isInteger(id) && id! >= 1 && id! <= 0xffff;
}

function dispatch(conn: MqttConnection, packet: Packet): void {
  if (conn.state === 'awaiting_connect') {
    // The first packet from the client must be CONNECT [MQTT-3.1.0-1].
    if (packet.cmd === 'connect') handleConnect(conn, packet);
    else conn.close('protocol_error', `${packet.cmd} before CONNECT`);
    return;
  }
  if (!hasValidPacketId(packet)) {
    // A Packet Identifier is a non-zero two-byte integer [MQTT-2.3.1-1] (MQTT 5: [MQTT-2.2.1-3]). mqtt-packet
    // reads one cut short by the Remaining Length as -1 instead of failing; answering it would write half an ack.
    conn.close('malformed_packet', `${packet.cmd} with an invalid packet identifier`);
    return;
  }
  switch (packet.cmd) {
    case 'publish':
      handlePublish(conn, packet);
      break;
    case 'puback':
      handlePuback(conn, packet);
      break;
    case 'pubrel':
      handlePubrel(conn, packet);
      break;
    case 'subscribe':
      handleSubscribe(conn, packet);
      break;
    case 'unsubscribe':
      handleUnsubscribe(conn, packet);
      break;
    case 'pingreq':
      handlePingreq(conn);
      break;
    case 'disconnect':
      handleDisconnect(conn, packet);
      break;
    case 'connect':
      // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
      conn.close('protocol_error', 'second CONNECT');
      break;
    default:
      // Server-to-client packets, QoS 2 acks for publishes we never send at QoS 2, and AUTH without an
      // authentication method in CONNECT are all protocol errors.
      conn.close('protocol_error', `unexpected ${packet.cmd}`);
      break;
  }
}
