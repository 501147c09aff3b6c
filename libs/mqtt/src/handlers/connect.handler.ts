import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { CloseReason } from '../close-reason.js';
import type { MqttConnection } from '../mqtt-connection.js';
import type { AuthenticateResult, ProtocolVersion, WillMessage } from '../mqtt-session.types.js';
import { ConnackReturnCode, ReasonCode } from '../reason-codes.js';
import { type NegotiatedExpiry, negotiateSessionExpiry } from '../session-expiry.js';
import type { StoredSession } from '../session-store.js';
import { restoreSession } from './restore-session.js';

const ASSIGNED_CLIENT_ID_PREFIX = 'telehub-';

interface Refusal {
  returnCode: number;
  reasonCode: number;
  reason: CloseReason;
  detail?: string;
}

const AUTH_REFUSALS: Record<Extract<AuthenticateResult, { ok: false }>['reason'], Refusal> = {
  bad_credentials: {
    returnCode: ConnackReturnCode.notAuthorized,
    reasonCode: ReasonCode.badUserNameOrPassword,
    reason: 'bad_credentials',
  },
  not_authorized: {
    returnCode: ConnackReturnCode.notAuthorized,
    reasonCode: ReasonCode.notAuthorized,
    reason: 'not_authorized',
  },
  server_unavailable: {
    returnCode: ConnackReturnCode.serverUnavailable,
    reasonCode: ReasonCode.serverUnavailable,
    reason: 'server_unavailable',
  },
  // MQTT 5 section 3.2.2.2: 0x9F Connection rate exceeded. MQTT 3.1.1 section 3.2.2.3 has nothing closer than
  // 3 Server unavailable ("the Network Connection has been made but the MQTT service is unavailable").
  connection_rate_exceeded: {
    returnCode: ConnackReturnCode.serverUnavailable,
    reasonCode: ReasonCode.connectionRateExceeded,
    reason: 'connection_rate_exceeded',
  },
  // 0x99 is a CONNACK reason code for a Will Payload the server does not accept (MQTT 5 section 3.2.2.2).
  payload_format_invalid: {
    returnCode: ConnackReturnCode.notAuthorized,
    reasonCode: ReasonCode.payloadFormatInvalid,
    reason: 'payload_format_invalid',
  },
};

export function handleConnect(conn: MqttConnection, packet: IConnectPacket): void {
  const version = packet.protocolVersion;
  if (version !== 4 && version !== 5) {
    // MQIsdp 3.1 (level 3) parses but is not served [MQTT-3.1.2-2].
    refuse(conn, {
      returnCode: ConnackReturnCode.unacceptableProtocolVersion,
      reasonCode: ReasonCode.unsupportedProtocolVersion,
      reason: 'unsupported_protocol_version',
    });
    return;
  }
  conn.setProtocol(version, packet.properties?.maximumPacketSize);
  if (version === 5) {
    conn.clientReceiveMaximum = packet.properties?.receiveMaximum ?? 0xffff;
    conn.requestProblemInformation = packet.properties?.requestProblemInformation ?? true;
  }
  const refusal = checkConnect(version, packet);
  if (refusal) {
    refuse(conn, refusal);
    return;
  }
  // An empty ClientID gets a unique one [MQTT-3.1.3-6], returned to MQTT 5 clients [MQTT-3.2.2-16].
  const assignedClientId = packet.clientId === '' ? `${ASSIGNED_CLIENT_ID_PREFIX}${randomUUID()}` : undefined;
  conn.clientId = assignedClientId ?? packet.clientId;
  conn.will = toWillMessage(packet.will);
  // Nothing sent after the CONNECT is processed until the client is accepted [MQTT-3.1.4-5].
  conn.state = 'authenticating';
  const keepAlive = negotiateKeepAlive(conn, packet.keepalive ?? 0);
  callAuthenticate(conn, version, packet, keepAlive.seconds).then(
    (result) => onAuthenticated(conn, packet, result, { assignedClientId, keepAlive }),
    (error: unknown) => {
      if (conn.state !== 'authenticating') return;
      refuse(conn, { ...AUTH_REFUSALS.server_unavailable, reason: 'internal_error', detail: errorMessage(error) });
    },
  );
}

function checkConnect(version: ProtocolVersion, packet: IConnectPacket): Refusal | undefined {
  if (version === 4 && packet.clientId === '' && !packet.clean) {
    // A zero-byte ClientID requires CleanSession=1 in 3.1.1 [MQTT-3.1.3-8].
    return { returnCode: ConnackReturnCode.identifierRejected, reasonCode: 0, reason: 'client_id_rejected' };
  }
  if (version === 5 && packet.properties?.authenticationMethod !== undefined) {
    return {
      returnCode: 0,
      reasonCode: ReasonCode.badAuthenticationMethod,
      reason: 'bad_credentials',
      detail: 'enhanced authentication is not supported',
    };
  }
  if (version === 5 && packet.will?.retain) {
    // CONNACK says Retain Available = 0, so a retained will must be refused [MQTT-3.2.2-13].
    return {
      returnCode: 0,
      reasonCode: ReasonCode.retainNotSupported,
      reason: 'protocol_error',
      detail: 'will retain is not supported',
    };
  }
  return undefined;
}

function callAuthenticate(
  conn: MqttConnection,
  protocolVersion: ProtocolVersion,
  packet: IConnectPacket,
  keepAliveSeconds: number,
): Promise<AuthenticateResult> {
  try {
    const { clientId, username, password } = packet;
    const will = conn.will ? { will: conn.will } : {};
    const request = { clientId, username, password, protocolVersion, keepAliveSeconds, ...will };
    return Promise.resolve(conn.hooks.authenticate(request, conn.session));
  } catch (error) {
    return Promise.reject(error);
  }
}

function onAuthenticated(
  conn: MqttConnection,
  packet: IConnectPacket,
  result: AuthenticateResult,
  negotiated: { assignedClientId: string | undefined; keepAlive: NegotiatedKeepAlive },
): void {
  // Closed meanwhile (connect timeout, server shutdown, socket gone before the answer): nothing to send.
  if (conn.state !== 'authenticating') return;
  if (!result.ok) {
    const refusal = AUTH_REFUSALS[result.reason] ?? AUTH_REFUSALS.not_authorized;
    refuse(conn, result.detail === undefined ? refusal : { ...refusal, detail: result.detail });
    return;
  }
  const version = conn.protocolVersion!;
  const cleanStart = packet.clean ?? true;
  const expiry = negotiateSessionExpiry(conn.options, version, cleanStart, packet.properties?.sessionExpiryInterval);
  conn.requestedSessionExpiry = packet.properties?.sessionExpiryInterval ?? 0;
  conn.sessionExpirySeconds = expiry.seconds;
  if (!conn.options.sessionStore) {
    accept(conn, result.deviceId, { ...negotiated, expiry, stored: undefined });
    return;
  }
  // From here the store holds this connection's session (when kept): its end is reported, even if the
  // connection closes before the store answers.
  conn.sessionKept = expiry.seconds > 0;
  const request = { deviceId: result.deviceId, clientId: conn.clientId!, cleanStart, expirySeconds: expiry.seconds };
  conn
    .callStore((store) => store.open(conn.session, request))
    .then(
      (stored) => {
        if (conn.state !== 'authenticating') return;
        accept(conn, result.deviceId, { ...negotiated, expiry, stored: cleanStart ? undefined : stored });
      },
      (error: unknown) => {
        if (conn.state !== 'authenticating') return;
        refuse(conn, { ...AUTH_REFUSALS.server_unavailable, detail: `session store: ${errorMessage(error)}` });
      },
    );
}

interface Acceptance {
  assignedClientId: string | undefined;
  keepAlive: NegotiatedKeepAlive;
  expiry: NegotiatedExpiry;
  /** The earlier session taken over; never with Clean Start, where Session Present is 0 [MQTT-3.2.2-1]. */
  stored: StoredSession | undefined;
}

function accept(conn: MqttConnection, deviceId: string, acceptance: Acceptance): void {
  const { assignedClientId, keepAlive, expiry, stored } = acceptance;
  const sessionPresent = stored !== undefined;
  const connack: IConnackPacket = { cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent };
  if (conn.protocolVersion === 5) {
    connack.properties = {
      maximumPacketSize: conn.options.maxPacketSize,
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      topicAliasMaximum: 0,
      ...(assignedClientId === undefined ? {} : { assignedClientIdentifier: assignedClientId }),
      ...(keepAlive.serverKeepAlive === undefined ? {} : { serverKeepAlive: keepAlive.serverKeepAlive }),
      ...(expiry.announce === undefined ? {} : { sessionExpiryInterval: expiry.announce }),
    };
  }
  try {
    conn.writer.write(connack);
    // Restored before markConnected: the packets queued behind the CONNECT already see the subscriptions.
    if (stored) restoreSession(conn, stored);
  } catch (error) {
    conn.fail(error);
    return;
  }
  conn.sessionPresent = sessionPresent;
  conn.markConnected(deviceId, keepAlive.seconds);
  if (conn.closeOnceAccepted) {
    conn.close(conn.closeOnceAccepted.reason, conn.closeOnceAccepted.detail);
    return;
  }
  if (sessionPresent && conn.state === 'connected') {
    try {
      conn.hooks.onSessionResumed?.(conn.session);
    } catch (error) {
      conn.fail(error);
    }
  }
}

interface NegotiatedKeepAlive {
  seconds: number;
  /** Sent in the CONNACK when the server overrides the client's value (MQTT 5 only). */
  serverKeepAlive?: number;
}

/**
 * The server may cap the keep-alive only in MQTT 5, through Server Keep Alive [MQTT-3.2.2-21]; a 3.1.1 client
 * cannot be told, so its own value stands [MQTT-3.2.2-22]. A requested 0 (no keep-alive) counts as above the cap.
 */
function negotiateKeepAlive(conn: MqttConnection, requested: number): NegotiatedKeepAlive {
  const max = conn.options.serverKeepAliveMaxSeconds;
  if (conn.protocolVersion !== 5 || max === undefined) return { seconds: requested };
  if (requested !== 0 && requested <= max) return { seconds: requested };
  return { seconds: max, serverKeepAlive: max };
}

/** Writes a refusing CONNACK in the client's protocol, then closes [MQTT-3.2.2-7]; no DISCONNECT follows. */
function refuse(conn: MqttConnection, refusal: Refusal): void {
  try {
    conn.writer.write({
      cmd: 'connack',
      returnCode: refusal.returnCode,
      reasonCode: refusal.reasonCode,
      sessionPresent: false,
    });
  } catch {
    // The refusal is best effort; closing is what matters.
  }
  conn.close(refusal.reason, refusal.detail);
}

function toWillMessage(will: IConnectPacket['will']): WillMessage | undefined {
  if (!will) return undefined;
  const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
  return { topic: will.topic, payload, qos: will.qos ?? 0, retain: will.retain ?? false, properties: will.properties };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
