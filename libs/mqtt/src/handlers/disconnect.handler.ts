import type { IDisconnectPacket } from 'mqtt-packet';
import type { MqttConnection } from '../mqtt-connection.js';
import { ReasonCode } from '../reason-codes.js';
import { sessionExpiryMax } from '../session-expiry.js';

/**
 * A client DISCONNECT is a graceful close: the will is discarded [MQTT-3.14.4-3], unless an MQTT 5 client asks
 * for it with reason 0x04 (Disconnect with Will Message). An MQTT 5 DISCONNECT may set a new Session Expiry
 * Interval (capped like the CONNECT's), but not make a session that was to end with its connection outlive it.
 */
export function handleDisconnect(conn: MqttConnection, packet: IDisconnectPacket): void {
  const expiry = conn.protocolVersion === 5 ? packet.properties?.sessionExpiryInterval : undefined;
  if (expiry !== undefined && expiry !== 0 && conn.requestedSessionExpiry === 0) {
    // [MQTT-3.14.2-2]: a protocol error, so the will stays.
    conn.close('protocol_error', 'DISCONNECT sets a Session Expiry Interval after CONNECT set 0');
    return;
  }
  if (expiry !== undefined) conn.sessionExpirySeconds = Math.min(expiry, sessionExpiryMax(conn.options));
  if (packet.reasonCode !== ReasonCode.disconnectWithWill) conn.will = undefined;
  conn.close('client_disconnect');
}
