import type { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import { AckQueue } from './ack-queue.js';
import { type CloseReason, disconnectReasonCode } from './close-reason.js';
import { handlePacket } from './handlers/handle-packet.js';
import { type KeepAliveOwner, KeepAliveTimer } from './keep-alive.timer.js';
import { MqttSessionError } from './mqtt-session.error.js';
import type { MqttSession } from './mqtt-session.js';
import type {
  MqttSessionHooks,
  MqttSessionOptions,
  ProtocolVersion,
  PublishOutcome,
  WillMessage,
} from './mqtt-session.types.js';
import { OutboundInflight } from './outbound-inflight.js';
import {
  NO_CONNECT_YET,
  type ParserSettings,
  type ParseTarget,
  type PooledParser,
  packetParsers,
} from './packet-parser.pool.js';
import { PacketSizeGuard } from './packet-size.guard.js';
import { PacketWriter } from './packet-writer.js';
import { ConnackReturnCode } from './reason-codes.js';
import type { MqttSessionStore } from './session-store.js';
import { listenToStream } from './stream-listeners.js';

const DEFAULT_MAX_INFLIGHT_PUBLISHES = 100;
const DEFAULT_CLOSE_GRACE_MS = 1000;
const DEFAULT_MAX_SUBSCRIPTIONS = 16;
/** What a connection without subscriptions reads: one shared empty map, never written to. */
const NO_SUBSCRIPTIONS: ReadonlyMap<string, 0 | 1> = new Map();

export type ConnectionState = 'awaiting_connect' | 'authenticating' | 'connected' | 'closed';

/**
 * All state of one client connection, like the `client` object of aedes; the packet handlers read and change it.
 * Incoming bytes go through two queues so that nothing is processed while processing is not allowed
 * (paused, authenticating, too many publishes in flight, or the client not reading our writes):
 * `stash` holds raw chunks not yet given to the parser, `inbox` holds parsed packets not yet handled.
 * Collections are made when first needed and queues dropped once empty: most devices sit idle, subscribe to one
 * topic at most and never use QoS 2, and each empty collection costs an idle connection about 150 bytes.
 */
export class MqttConnection implements ParseTarget, KeepAliveOwner {
  state: ConnectionState = 'awaiting_connect';
  /** A close asked for while the CONNECT was being answered, carried out right after the CONNACK. */
  closeOnceAccepted: { reason: CloseReason; detail: string | undefined } | undefined;
  protocolVersion: ProtocolVersion | undefined;
  clientId: string | undefined;
  deviceId: string | undefined;
  will: WillMessage | undefined;
  keepAliveSeconds = 0;
  closeReason: CloseReason | undefined;
  closeDetail: string | undefined;
  /** MQTT 5 CONNECT properties that limit what the server may send. */
  clientReceiveMaximum = 0xffff;
  clientMaximumPacketSize: number | undefined;
  requestProblemInformation = true;
  /** MQTT 5: the Session Expiry Interval the CONNECT asked for (a DISCONNECT may not raise it from 0). */
  requestedSessionExpiry = 0;
  /** How long the session outlives this connection, in seconds (the negotiated value; DISCONNECT may change it). */
  sessionExpirySeconds = 0;
  /** The session is kept in the store beyond this connection: its changes are saved, its end is reported. */
  sessionKept = false;
  sessionPresent = false;

  readonly writer: PacketWriter;
  readonly acks: AckQueue;
  readonly outbound = new OutboundInflight();
  private subscriptionMap: Map<string, 0 | 1> | undefined;
  private awaitingReleaseMap: Map<number, Promise<PublishOutcome>> | undefined;
  /** Made when first asked for (the hub asks only at shutdown); resolved by finish(). */
  private closedPromise: Promise<CloseReason> | undefined;
  private resolveClosed: ((reason: CloseReason) => void) | undefined;

  /** Set only while part of a packet has been received (packet-parser.pool.ts). */
  heldParser: PooledParser | undefined;
  parserSettings: ParserSettings = NO_CONNECT_YET;
  private readonly sizeGuard: PacketSizeGuard;
  private readonly maxInflight: number;
  readonly maxSubscriptions: number;
  /** Store calls of this connection run one after another, in the order they were made. */
  private storeTail: Promise<unknown> = Promise.resolve();
  private stash: Buffer[] | undefined;
  private inbox: Packet[] | undefined;
  private keepAlive: KeepAliveTimer | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private userPaused = false;
  private pumping = false;
  private peerGone = false;
  private streamClosed = false;
  private wasConnected = false;
  private finished = false;

  constructor(
    readonly session: MqttSession,
    readonly stream: Duplex,
    readonly options: MqttSessionOptions,
    readonly hooks: MqttSessionHooks,
  ) {
    this.writer = new PacketWriter(stream);
    this.acks = new AckQueue(() => this.pump());
    this.sizeGuard = new PacketSizeGuard(options.maxPacketSize);
    this.maxInflight = options.maxInflightPublishes ?? DEFAULT_MAX_INFLIGHT_PUBLISHES;
    this.maxSubscriptions = options.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
    this.connectTimer = setTimeout(() => this.close('connect_timeout'), options.connectTimeoutMs);
    this.connectTimer.unref();
    listenToStream(stream, this);
  }

  /** Resolves with the close reason once the stream has closed and onClose was called. */
  get closed(): Promise<CloseReason> {
    if (!this.closedPromise) {
      this.closedPromise = this.finished
        ? Promise.resolve(this.closeReason ?? 'socket_closed')
        : new Promise((resolve) => {
            this.resolveClosed = resolve;
          });
    }
    return this.closedPromise;
  }

  get isPaused(): boolean {
    return this.userPaused;
  }

  /** Granted subscriptions: filter -> granted QoS. */
  get subscriptions(): ReadonlyMap<string, 0 | 1> {
    return this.subscriptionMap ?? NO_SUBSCRIPTIONS;
  }

  grantSubscription(filter: string, qos: 0 | 1): void {
    this.subscriptionMap ??= new Map();
    this.subscriptionMap.set(filter, qos);
  }

  /** False when there was no such subscription. */
  removeSubscription(filter: string): boolean {
    return this.subscriptionMap?.delete(filter) ?? false;
  }

  /** QoS 2 packet ids received and not yet released by PUBREL, with their onPublish result [MQTT-4.3.3-2]. */
  get awaitingRelease(): Map<number, Promise<PublishOutcome>> {
    this.awaitingReleaseMap ??= new Map();
    return this.awaitingReleaseMap;
  }

  setProtocol(version: ProtocolVersion, clientMaximumPacketSize?: number): void {
    this.protocolVersion = version;
    this.clientMaximumPacketSize = clientMaximumPacketSize;
    this.writer.setProtocol(version, clientMaximumPacketSize);
  }

  /** CONNACK accepted has been written: start serving the packets that queued up behind the CONNECT. */
  markConnected(deviceId: string, keepAliveSeconds: number): void {
    this.state = 'connected';
    this.wasConnected = true;
    this.deviceId = deviceId;
    this.keepAliveSeconds = keepAliveSeconds;
    // Dropped, not only cleared: a cleared Timeout kept in a field stays on the heap of every idle connection.
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (keepAliveSeconds > 0) {
      const timeoutMs = keepAliveSeconds * 1000 * this.options.keepAliveGraceFactor;
      this.keepAlive = new KeepAliveTimer(timeoutMs, this, this.options.keepAliveWheel);
      this.keepAlive.start();
    }
    this.pump();
  }

  /** Runs `call` with the session store once the store calls made before it have settled. */
  callStore<T>(call: (store: MqttSessionStore) => Promise<T>): Promise<T> {
    const store = this.options.sessionStore;
    if (!store) return Promise.reject(new Error('no session store'));
    const result = this.storeTail.then(() => call(store));
    this.storeTail = result.catch(() => undefined);
    return result;
  }

  /** Saves the subscriptions as they are now, for a session kept beyond this connection. */
  saveSubscriptions(): Promise<void> {
    const subscriptions = new Map(this.subscriptions);
    return this.callStore((store) => store.saveSubscriptions(this.session, subscriptions));
  }

  pause(): void {
    this.userPaused = true;
    this.updateFlow();
  }

  resume(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    this.keepAlive?.touch();
    this.pump();
  }

  /**
   * Closes with `internal_error`: a hook threw or rejected. Only this session is affected. A packet of ours that
   * would exceed the client's Maximum Packet Size cannot be sent [MQTT-3.1.2-24]: that closes as packet_too_large.
   */
  fail(error: unknown): void {
    if (error instanceof MqttSessionError && error.code === 'ERR_PACKET_TOO_LARGE_FOR_CLIENT') {
      this.close('packet_too_large', error.message);
      return;
    }
    this.close('internal_error', error instanceof Error ? error.message : String(error));
  }

  close(reason: CloseReason, detail?: string): void {
    if (this.state === 'closed') return;
    // Taken over while its CONNECT is still being answered (the newer session won the race on another hub): it is
    // answered first, then told why it ends (CONNACK, then DISCONNECT 0x8E), instead of a connection cut without
    // a word that a client reports as a network error and retries at once.
    if (this.state === 'authenticating' && reason === 'taken_over') {
      this.closeOnceAccepted ??= { reason, detail };
      return;
    }
    // A DISCONNECT may only follow a successful CONNACK [MQTT-3.14.0-1]; before that a CONNACK carried the refusal.
    const code = this.state === 'connected' && this.protocolVersion === 5 ? disconnectReasonCode(reason) : undefined;
    this.state = 'closed';
    this.closeReason = reason;
    this.closeDetail = detail;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.keepAlive?.stop();
    this.stash = undefined;
    this.inbox = undefined;
    this.heldParser = undefined;
    if (code !== undefined) {
      try {
        this.writer.write({ cmd: 'disconnect', reasonCode: code });
      } catch {
        // The DISCONNECT is a courtesy; the stream is ended either way.
      }
    }
    this.endStream();
    if (this.streamClosed) this.finish();
  }

  /** Handles queued packets while processing is allowed, then starts or stops reading the stream to match. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.canProcess()) {
        const packet = this.inbox?.shift();
        if (packet) {
          this.keepAlive?.touch();
          handlePacket(this, packet);
          continue;
        }
        const chunk = this.stash?.shift();
        if (!chunk) break;
        this.parse(chunk);
      }
    } finally {
      this.pumping = false;
    }
    if (this.inbox?.length === 0) this.inbox = undefined;
    if (this.stash?.length === 0) this.stash = undefined;
    this.updateFlow();
    // The peer left: finish what it sent (a CONNECT, a few publishes, a DISCONNECT), then close.
    if (this.peerGone && !this.inbox && !this.stash && this.state !== 'authenticating') {
      this.close('socket_closed');
    }
  }

  isReading(): boolean {
    return this.canProcess();
  }

  keepAliveExpired(): void {
    this.close('keepalive_timeout');
  }

  private canProcess(): boolean {
    return (
      this.state !== 'closed' &&
      this.state !== 'authenticating' &&
      !this.userPaused &&
      this.acks.unsettled < this.maxInflight &&
      !this.stream.writableNeedDrain
    );
  }

  private updateFlow(): void {
    if (this.state === 'closed' || this.stream.destroyed) return;
    // Not reading leaves bytes in the socket, so TCP pushes back on the client instead of us buffering.
    const read = this.canProcess();
    if (read && this.stream.isPaused()) this.stream.resume();
    else if (!read && !this.stream.isPaused()) this.stream.pause();
  }

  private parse(chunk: Buffer): void {
    if (!this.sizeGuard.accept(chunk)) {
      this.close('packet_too_large');
      return;
    }
    packetParsers.parse(chunk, this);
  }

  handleData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.stash ??= [];
    this.stash.push(chunk);
    this.pump();
  }

  onPacket(packet: Packet): void {
    if (this.state === 'closed') return;
    this.inbox ??= [];
    this.inbox.push(packet);
  }

  onParseError(error: Error): void {
    // mqtt-packet rejects unknown protocol levels while parsing CONNECT; answer as 3.1.1 does [MQTT-3.1.2-2].
    if (this.state === 'awaiting_connect' && error.message === 'Invalid protocol version') {
      this.writer.write({
        cmd: 'connack',
        returnCode: ConnackReturnCode.unacceptableProtocolVersion,
        sessionPresent: false,
      });
      this.close('unsupported_protocol_version');
      return;
    }
    this.close('malformed_packet', error.message);
  }

  handlePeerGone(): void {
    this.peerGone = true;
    this.pump();
  }

  handleStreamClose(): void {
    this.streamClosed = true;
    if (this.state === 'closed') this.finish();
    else this.handlePeerGone();
  }

  /**
   * Closes gracefully: the final packets (acks, CONNACK, DISCONNECT) were written; end the write side (FIN after
   * them), then keep reading and discard what arrives until the peer ends its side too. Closing a TCP socket with
   * unread bytes in its receive buffer sends a reset instead of a FIN (RFC 1122 4.2.2.13, RFC 2525 2.17), and a
   * reset throws away whatever of ours is still in flight: the device would miss the last acknowledgements and
   * the DISCONNECT. A peer that neither reads nor closes is cut off after the grace period.
   */
  private endStream(): void {
    const { stream } = this;
    if (stream.destroyed) return;
    const timer = setTimeout(() => stream.destroy(), this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    timer.unref();
    stream.once('close', () => clearTimeout(timer));
    // Both sides done: nothing is left unread, so destroying sends no reset. Streams that do not destroy
    // themselves then (autoDestroy off, as ws's createWebSocketStream) are destroyed here.
    const destroyWhenDone = () => {
      if (stream.readableEnded && stream.writableFinished) stream.destroy();
    };
    stream.once('end', destroyWhenDone);
    if (stream.writableFinished) destroyWhenDone();
    else stream.end(destroyWhenDone);
    // handleData drops everything once closed; reading on is what keeps the receive buffer empty.
    stream.resume();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const reason = this.closeReason ?? 'socket_closed';
    // Hook errors cannot close anything any more; they must not escape into the stream's event emitter.
    if (this.wasConnected && this.will && this.hooks.onWill) {
      try {
        this.hooks.onWill(this.session, this.will, reason);
      } catch {}
    }
    if (this.sessionKept) {
      // The store reports its own failures; the session is over here either way.
      const end = { expirySeconds: this.sessionExpirySeconds, unacknowledged: this.outbound.unacknowledged() };
      this.callStore((store) => store.close(this.session, end)).catch(() => undefined);
    }
    try {
      this.hooks.onClose(this.session, reason, this.closeDetail);
    } catch {}
    this.resolveClosed?.(reason);
  }
}
