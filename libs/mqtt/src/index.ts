export type { CloseReason } from './close-reason.js';
export { disconnectReasonCode } from './close-reason.js';
export { MqttSessionError, type MqttSessionErrorCode } from './mqtt-session.error.js';
export { MqttSession } from './mqtt-session.js';
export type {
  AuthenticateRequest,
  AuthenticateResult,
  InboundMessage,
  MqttSessionHooks,
  MqttSessionOptions,
  OutboundDelivery,
  OutboundMessage,
  ProtocolVersion,
  PublishOutcome,
  Qos,
  SubscribeDecision,
  WillMessage,
} from './mqtt-session.types.js';
export type { UnacknowledgedPublish } from './outbound-inflight.js';
export { ConnackReturnCode, ReasonCode, SUBACK_FAILURE_V4 } from './reason-codes.js';
export type { MqttSessionStore, SessionEnd, SessionOpenRequest, StoredSession } from './session-store.js';
export { createDuplexPair } from './testing/duplex-pair.js';
export { RawMqttClient } from './testing/raw-mqtt-client.js';
export { hasWildcard, isValidTopicFilter, isValidTopicName } from './topic-validation.js';
