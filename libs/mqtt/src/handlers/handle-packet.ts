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

function dispatch(conn: MqttConnection, packet: Packet): void {
  if (conn.state === 'awaiting_connect') {
    // The first packet from the client must be CONNECT [MQTT-3.1.0-1].
    if (packet.cmd === 'connect') handleConnect(conn, packet);
    else conn.close('protocol_error', `${packet.cmd} before CONNECT`);
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
