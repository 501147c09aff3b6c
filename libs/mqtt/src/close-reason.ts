import { ReasonCode } from './reason-codes.js';

/** Why a session ended. The first reason given to close() wins and is passed to onClose. */
export type CloseReason =
  | 'client_disconnect'
  | 'keepalive_timeout'
  | 'connect_timeout'
  | 'protocol_error'
  | 'malformed_packet'
  | 'packet_too_large'
  | 'topic_alias_invalid'
  | 'unsupported_protocol_version'
  | 'client_id_rejected'
  | 'bad_credentials'
  | 'not_authorized'
  | 'payload_format_invalid'
  | 'server_unavailable'
  | 'server_busy'
  | 'connection_rate_exceeded'
  | 'server_shutdown'
  | 'taken_over'
  | 'rate_limited'
  | 'administrative_action'
  | 'internal_error'
  | 'socket_error'
  | 'socket_closed';

/**
 * MQTT 5 DISCONNECT reason code sent before closing, per close reason. `undefined` means the stream is just ended:
 * the client left first, the network is gone, or the refusal already went out in a CONNACK.
 * 0x88 (Server unavailable) is a CONNACK-only code, so an unavailable server disconnects with 0x89 (Server busy).
 */
const DISCONNECT_REASON_CODES: Record<CloseReason, number | undefined> = {
  client_disconnect: undefined,
  keepalive_timeout: ReasonCode.keepAliveTimeout,
  connect_timeout: undefined,
  protocol_error: ReasonCode.protocolError,
  malformed_packet: ReasonCode.malformedPacket,
  packet_too_large: ReasonCode.packetTooLarge,
  topic_alias_invalid: ReasonCode.topicAliasInvalid,
  unsupported_protocol_version: undefined,
  client_id_rejected: undefined,
  bad_credentials: undefined,
  not_authorized: ReasonCode.notAuthorized,
  payload_format_invalid: ReasonCode.payloadFormatInvalid,
  server_unavailable: ReasonCode.serverBusy,
  server_busy: ReasonCode.serverBusy,
  connection_rate_exceeded: undefined,
  server_shutdown: ReasonCode.serverShuttingDown,
  taken_over: ReasonCode.sessionTakenOver,
  rate_limited: ReasonCode.messageRateTooHigh,
  administrative_action: ReasonCode.administrativeAction,
  internal_error: ReasonCode.unspecifiedError,
  socket_error: undefined,
  socket_closed: undefined,
};

export function disconnectReasonCode(reason: CloseReason): number | undefined {
  return DISCONNECT_REASON_CODES[reason];
}

export function isCloseReason(value: string): value is CloseReason {
  return Object.hasOwn(DISCONNECT_REASON_CODES, value);
}
