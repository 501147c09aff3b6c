import type { Duplex } from 'node:stream';
import type { CloseReason } from './close-reason.js';
import { MqttConnection } from './mqtt-connection.js';
import type {
  MqttSessionHooks,
  MqttSessionOptions,
  OutboundDelivery,
  OutboundMessage,
  ProtocolVersion,
  WillMessage,
} from './mqtt-session.types.js';
import { publishToClient } from './outbound-publish.js';

/**
 * One MQTT 3.1.1 or 5 client over any duplex stream (TCP socket, TLS socket, WebSocket stream, in-memory pair).
 * A session outlives its connection when the client asks (3.1.1 without Clean Session, MQTT 5 with a Session
 * Expiry Interval) and the server gave a `sessionStore`: its subscriptions and unacknowledged publishes are kept
 * there, and a later connection of the client takes them over (Session Present = 1).
 */
export class MqttSession {
  private readonly conn: MqttConnection;

  constructor(stream: Duplex, options: MqttSessionOptions, hooks: MqttSessionHooks) {
    this.conn = new MqttConnection(this, stream, options, hooks);
  }

  /** Set once authenticate() accepted the client. */
  get deviceId(): string | undefined {
    return this.conn.deviceId;
  }

  get protocolVersion(): ProtocolVersion | undefined {
    return this.conn.protocolVersion;
  }

  /** The client identifier sent in CONNECT, or the one assigned when it was empty. */
  get clientId(): string | undefined {
    return this.conn.clientId;
  }

  /** The will from CONNECT; cleared by a normal DISCONNECT. */
  get will(): WillMessage | undefined {
    return this.conn.will;
  }

  /** Granted subscriptions: filter -> granted QoS. */
  get subscriptions(): ReadonlyMap<string, 0 | 1> {
    return this.conn.subscriptions;
  }

  /** The CONNACK said Session Present: this connection took over an earlier one's session. */
  get sessionPresent(): boolean {
    return this.conn.sessionPresent;
  }

  /** How long the session outlives this connection, in seconds (0: it ends with it). */
  get sessionExpirySeconds(): number {
    return this.conn.sessionExpirySeconds;
  }

  /**
   * Packet id -> tag of the QoS 1 publishes an earlier connection of the session left unacknowledged and this one
   * has not resent yet: resend each with `publish(message, tag, { packetId })` [MQTT-4.4.0-1].
   */
  get restoredPublishes(): ReadonlyMap<number, unknown> {
    return this.conn.outbound.restored;
  }

  /** The keep-alive in force, in seconds (0 = none). */
  get keepAliveSeconds(): number {
    return this.conn.keepAliveSeconds;
  }

  /** True between the accepting CONNACK and close. */
  get isConnected(): boolean {
    return this.conn.state === 'connected';
  }

  get isPaused(): boolean {
    return this.conn.isPaused;
  }

  /** The first close reason, once close has begun. */
  get closeReason(): CloseReason | undefined {
    return this.conn.closeReason;
  }

  /**
   * Resolves with the close reason once the stream has closed (after onClose): after close(), when the client
   * has closed its side too, or the close grace period (`closeGraceMs`) has passed.
   */
  get closed(): Promise<CloseReason> {
    return this.conn.closed;
  }

  /** onPublish calls not settled yet. */
  get inflightPublishes(): number {
    return this.conn.acks.unsettled;
  }

  /**
   * Stops reading: the stream is paused so TCP pushes back, and packets already parsed wait too. Acks of
   * publishes already in flight are still written. The keep-alive does not run against the client meanwhile.
   */
  pause(): void {
    this.conn.pause();
  }

  resume(): void {
    this.conn.resume();
  }

  /** How many more QoS 1 publishes may be sent before the client's Receive Maximum is reached [MQTT-3.3.4-9]. */
  get outboundCapacity(): number {
    return Math.max(0, this.conn.clientReceiveMaximum - this.conn.outbound.size);
  }

  /**
   * Server-to-client publish, QoS 0 or 1. Returns the packet id for QoS 1 (onOutboundAck fires with `tag` on
   * PUBACK) and undefined for QoS 0. Throws MqttSessionError when the message cannot be sent. `delivery` marks a
   * re-delivery (DUP), with the packet id it had when it is one of `restoredPublishes`.
   */
  publish(message: OutboundMessage, tag?: unknown, delivery?: OutboundDelivery): number | undefined {
    return publishToClient(this.conn, message, tag, delivery);
  }

  /** Idempotent; the first reason wins. MQTT 5 clients get a DISCONNECT with the matching reason code first. */
  close(reason: CloseReason, detail?: string): void {
    this.conn.close(reason, detail);
  }

  /**
   * Resolves when every onPublish call made so far has settled and its ack was written (or dropped, if the
   * session closed). For graceful shutdown: pause(), await drain(), close('server_shutdown').
   */
  drain(): Promise<void> {
    return this.conn.acks.whenEmpty();
  }
}
