import type { CloseReason } from './close-reason.js';
import type { KeepAliveWheel } from './keep-alive.timer.js';
import type { MqttSession } from './mqtt-session.js';
import type { MqttSessionStore } from './session-store.js';

export type ProtocolVersion = 4 | 5;
export type Qos = 0 | 1 | 2;

export interface MqttSessionOptions {
  /** Largest packet accepted, in bytes (fixed header included). Advertised in the MQTT 5 CONNACK. */
  maxPacketSize: number;
  /** The connection is closed when no CONNECT has been answered within this time. */
  connectTimeoutMs: number;
  /** Topic aliases are not supported: CONNACK advertises Topic Alias Maximum 0. */
  maxTopicAlias?: never;
  /** 1.5 per [MQTT-3.1.2-24]: the session closes after keepAlive × this factor without a packet. */
  keepAliveGraceFactor: number;
  /**
   * The wheel that watches keep-alives, one per process by default (keep-alive.timer.ts). Tests on fake timers
   * give each session its own, so no session left open by one test holds the process's wheel on a faked timer.
   */
  keepAliveWheel?: KeepAliveWheel;
  /** Upper bound for the client's keep-alive; MQTT 5 clients asking for more (or for 0) get Server Keep Alive. */
  serverKeepAliveMaxSeconds?: number;
  /**
   * onPublish calls that may be unsettled at once before the session stops reading the stream. Default 100.
   * Several publishes of one session are in flight together so a device's window of unacked QoS 1 messages
   * can land in one batch commit of the hub.
   */
  maxInflightPublishes?: number;
  /**
   * After close() has written its final packets and ended the stream, how long the session keeps reading (and
   * discarding) while it waits for the client to close its side, before destroying the stream. Default 1000 ms.
   */
  closeGraceMs?: number;
  /** Keeps sessions that outlive their connection; without one every session ends with its connection. */
  sessionStore?: MqttSessionStore;
  /**
   * How long a session may outlive its connection, in seconds. A 3.1.1 client without Clean Session gets this
   * (3.1.1 has no expiry of its own); an MQTT 5 client's Session Expiry Interval is capped to it, and the CONNACK
   * says so when it differs from the request. Default 0, and 0 without a sessionStore: sessions end with the
   * connection.
   */
  sessionExpiryMaxSeconds?: number;
  /** Subscriptions one session may hold; a filter beyond it is refused (MQTT 5: 0x97 Quota exceeded). Default 16. */
  maxSubscriptions?: number;
}

export interface AuthenticateRequest {
  /** The client identifier as sent; empty when the client asked the server to assign one. */
  clientId: string;
  username?: string;
  password?: Buffer;
  protocolVersion: ProtocolVersion;
  /**
   * The keep-alive the session will hold to once accepted: the client's own, or in MQTT 5 the Server Keep Alive
   * cap (serverKeepAliveMaxSeconds) [MQTT-3.2.2-21]. 0: none.
   */
  keepAliveSeconds: number;
  /** The will the CONNECT carries, so the server can refuse one it would not honour rather than drop it later. */
  will?: WillMessage;
}

export type AuthenticateResult =
  | { ok: true; deviceId: string }
  | {
      ok: false;
      /**
       * `not_authorized`: CONNACK 0x87 (v5) / 5 (v4), e.g. for a will topic the client may not publish to.
       * `payload_format_invalid`: CONNACK 0x99 (v5) for a will payload the server would not accept; 3.1.1 has no
       * such return code, so 5 (Not authorized).
       * `connection_rate_exceeded`: CONNACK 0x9F (v5) for a client that connects or fails too often; 3.1.1 has no
       * such return code, so 3 (Server unavailable), which clients also treat as "try again later".
       */
      reason:
        | 'bad_credentials'
        | 'not_authorized'
        | 'server_unavailable'
        | 'payload_format_invalid'
        | 'connection_rate_exceeded';
      /** Why, for the session's close reason (onClose); not sent to the client. */
      detail?: string;
    };

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: Qos;
  retain: boolean;
  /** MQTT 5 PUBLISH properties as decoded by mqtt-packet; absent for 3.1.1. */
  properties?: Record<string, unknown>;
}

export interface WillMessage {
  topic: string;
  payload: Buffer;
  qos: Qos;
  retain: boolean;
  properties?: Record<string, unknown>;
}

export type PublishOutcome =
  | { kind: 'accepted' }
  /** v5: PUBACK/PUBREC 0x99; v4: acknowledged normally so the device does not resend forever. */
  | { kind: 'invalid_payload'; message: string }
  /** v5: PUBACK/PUBREC 0x87; v4 (and QoS 0): the connection is closed, 3.1.1 has no negative ack [MQTT-3.3.5-2]. */
  | { kind: 'not_authorized' }
  /**
   * The hub understood the message and refuses it (e.g. a result for a command that is not the device's).
   * v5: PUBACK/PUBREC with `reasonCode` (≥ 0x80); v4: acknowledged normally, since 3.1.1 has no negative ack
   * and closing would make the device resend it forever.
   */
  | { kind: 'refused'; reasonCode: number; message: string }
  /** Not acknowledged; the session closes (v5 DISCONNECT 0x8B when shuttingDown, else 0x89 Server busy). */
  | { kind: 'unavailable'; shuttingDown?: boolean };

export interface OutboundMessage {
  topic: string;
  payload: Buffer | string;
  qos: 0 | 1;
  /** Sent only to MQTT 5 clients. */
  properties?: {
    responseTopic?: string;
    correlationData?: Buffer;
    contentType?: string;
    payloadFormatIndicator?: boolean;
  };
}

/** How publish() sends a message again that the client may already have seen. */
export interface OutboundDelivery {
  /** A re-delivery: DUP is set [MQTT-3.3.1-1]. */
  dup?: boolean;
  /** The packet id it had in the session's earlier connection (one of MqttSession.restoredPublishes). */
  packetId?: number;
}

export type SubscribeDecision = { granted: true; qos: 0 | 1 } | { granted: false };

export interface MqttSessionHooks {
  /** Called once with the CONNECT packet; no later packet is processed until it settles. */
  authenticate(request: AuthenticateRequest, session: MqttSession): Promise<AuthenticateResult>;
  /** Called for every inbound PUBLISH; its PUBACK/PUBREC is written only after the promise resolves. */
  onPublish(session: MqttSession, message: InboundMessage): Promise<PublishOutcome>;
  /** Access decision per SUBSCRIBE filter; the granted QoS is min(requested, decision.qos). */
  authorizeSubscribe(session: MqttSession, filter: string, qos: Qos): SubscribeDecision;
  /** Called after the SUBACK was written, once per granted filter. */
  onSubscribed?(session: MqttSession, filter: string, qos: 0 | 1): void;
  /**
   * Called after the CONNACK of a session that was present (taken over from an earlier connection, with its
   * subscriptions): the server resends what that connection left unacknowledged [MQTT-4.4.0-1] and sends what
   * waited meanwhile, without a new SUBSCRIBE.
   */
  onSessionResumed?(session: MqttSession): void;
  /** PUBACK received for a QoS 1 publish sent by publish(); reasonCode is 0 for 3.1.1 clients. */
  onOutboundAck?(session: MqttSession, messageId: number, tag: unknown, reasonCode: number): void;
  /** The CONNECT carried a will and the connection ended without a normal DISCONNECT. Called before onClose. */
  onWill?(session: MqttSession, will: WillMessage, reason: CloseReason): void;
  /** Exactly once per session, after the stream has closed, with the first close reason. */
  onClose(session: MqttSession, reason: CloseReason, detail?: string): void;
}
