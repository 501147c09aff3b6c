import type { Duplex } from 'node:stream';
import {
  ackFrame,
  type CommandMessage,
  DEVICE_WS_CLOSE,
  DEVICE_WS_PING_INTERVAL_MS,
  type DeviceFrame,
  deviceWsCloseStatus,
  errorFrame,
  type HubFrame,
  type ParsedFrame,
  parseDeviceFrame,
  type SessionDetails,
} from '@telehub/contracts';
import type { Logger } from 'pino';
import { type RawData, WebSocket } from 'ws';
import { rawText } from '../../common/websocket-text.js';
import type { IngestOutcome } from '../../ingest/ingest.service.js';
import type { CloseReason, DeviceConnection } from '../../sessions/device-connection.js';
import type { DevicePort } from '../device-port.js';

export interface DeviceWsServices {
  port: DevicePort;
  logger: Logger;
  /** TELEHUB_MAX_MESSAGE_BYTES, for the message that explains a 1009 close. */
  maxMessageBytes: number;
  /** TELEHUB_JSON_MAX_DEPTH */
  maxJsonDepth: number;
}

const TRANSPORT = 'ws';
/** Commands written ahead of the device's acknowledgements; more wait in the outbox until it acks some. */
const COMMAND_WINDOW = 100;

/**
 * One device on the JSON WebSocket protocol, as the hub sees it (DeviceConnection) and as the device
 * sees it: every frame is admitted by flow control (rate limit), handled, and answered with an ack or an
 * error, in the order the frames arrived, each only once its data is committed.
 */
export class DeviceWsSession implements DeviceConnection {
  readonly transport = TRANSPORT;
  readonly connectedAt = Date.now();
  readonly details: SessionDetails;
  /** Settles when the socket has closed; the reason is what the session's end is recorded with. */
  readonly ended: Promise<CloseReason>;
  /** Resolves when the answer to every frame read so far has been sent (or dropped with the session). */
  private answered: Promise<void> = Promise.resolve();
  private closeReason: CloseReason | undefined;
  private isEnded = false;
  private alive = true;
  private corked = false;
  private unacknowledgedCommands = new Set<string>();
  private markEnded!: (reason: CloseReason) => void;

  constructor(
    private readonly websocket: WebSocket,
    readonly deviceId: string,
    private readonly services: DeviceWsServices,
    remoteAddress: string | null = null,
  ) {
    // No client id or protocol level on this protocol; the hub's pings keep the session alive.
    this.details = {
      mqttProtocolLevel: null,
      clientId: null,
      keepAliveSeconds: DEVICE_WS_PING_INTERVAL_MS / 1000,
      remoteAddress,
    };
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
    websocket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    websocket.on('pong', () => {
      this.alive = true;
    });
    websocket.on('error', (error) => this.onSocketError(error as Error & { code?: string }));
    websocket.once('close', (code) => this.onClosed(code));
  }

  pause(): void {
    this.websocket.pause();
  }

  resume(): void {
    this.websocket.resume();
  }

  /** Closes with the status for `reason` (DEVICE_WS_CLOSE); frames not yet handled are dropped unanswered. */
  close(reason: CloseReason): void {
    if (this.closeReason !== undefined || this.isEnded) return;
    this.closeReason = reason;
    const status = deviceWsCloseStatus(reason);
    if (!status || this.websocket.readyState !== WebSocket.OPEN) {
      this.websocket.terminate();
      return;
    }
    // The closing handshake needs the device's close frame (RFC 6455 §5.5.1), which a paused socket never reads.
    this.websocket.resume();
    this.websocket.close(status.code, status.reason);
  }

  get acceptsCommands(): boolean {
    return this.closeReason === undefined && !this.isEnded && this.websocket.readyState === WebSocket.OPEN;
  }

  get commandCapacity(): number {
    return Math.max(0, COMMAND_WINDOW - this.unacknowledgedCommands.size);
  }

  sendCommand(command: CommandMessage): boolean {
    if (!this.acceptsCommands) return false;
    this.unacknowledgedCommands.add(command.id);
    this.send({ type: 'command', ...command });
    return true;
  }

  terminate(reason: CloseReason): void {
    this.closeReason ??= reason;
    this.websocket.terminate();
  }

  async drain(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.answered;
      await tail;
    } while (tail !== this.answered && !this.isEnded);
  }

  /**
   * Called every DEVICE_WS_PING_INTERVAL_MS. A device that has not answered the previous ping (RFC 6455 §5.5.2,
   * §5.5.3) or sent anything since is gone. A paused session is not reading, so it cannot see pongs either:
   * it is left alone until it reads again.
   */
  heartbeat(): void {
    if (this.isEnded || this.websocket.isPaused) return;
    if (!this.alive) {
      this.terminate('keepalive_timeout');
      return;
    }
    this.alive = false;
    this.websocket.ping();
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    const receivedAt = Date.now();
    this.alive = true;
    // Closing (rate limit, takeover, shutdown): frames still in flight are neither handled nor counted again.
    if (this.closeReason !== undefined || this.isEnded) return;
    const parsed: ParsedFrame = isBinary
      ? { ok: false, code: 'invalid_frame', message: 'binary frames are not accepted: send JSON in text frames' }
      : parseDeviceFrame(rawText(data), this.services.maxJsonDepth);
    // Every frame counts against the device's rate, malformed ones too.
    const admitted = this.services.port.admit(this);
    const handled = (
      admitted
        ? Promise.race([admitted, this.ended]).then(() => this.handle(parsed, receivedAt))
        : this.handle(parsed, receivedAt)
    ).catch((error: unknown) => {
      this.services.logger.error({ err: error, deviceId: this.deviceId }, 'device frame handler failed');
      return undefined;
    });
    // Frames are handled concurrently but answered in order: each answer waits for the one before it.
    this.answered = Promise.all([this.answered, handled]).then(([, answer]) => this.send(answer));
  }

  private async handle(parsed: ParsedFrame, receivedAt: number): Promise<HubFrame | undefined> {
    // After a close (takeover, rate limit, shutdown) nothing more is stored: the device did not get an ack
    // for these frames and sends them again on its next session.
    if (this.closeReason !== undefined || this.isEnded) return undefined;
    const { port } = this.services;
    if (!parsed.ok) {
      const detail = parsed.seq === undefined ? {} : { seq: parsed.seq };
      port.recordRejected(this.deviceId, TRANSPORT, parsed.code, parsed.message, detail);
      return errorFrame(parsed.code, parsed.message, parsed.seq);
    }
    const { frame } = parsed;
    if (frame.type === 'command_ack' || frame.type === 'command_result') return this.commandReply(frame);
    try {
      const outcome = await this.ingest(frame, receivedAt);
      return outcome.ok ? ackFrame(frame.seq) : errorFrame(outcome.code, outcome.message, frame.seq);
    } catch (error) {
      // Ingest answers refusals and waits out the database; a throw is a bug in the hub, not the device's fault.
      this.services.logger.error(
        { err: error, deviceId: this.deviceId, seq: frame.seq },
        'could not handle a device frame',
      );
      return errorFrame('internal_error', 'the hub failed to handle this frame; see the hub log', frame.seq);
    }
  }

  /** Answered only when the frame carries a seq, or when it is refused. */
  private async commandReply(frame: Extract<DeviceFrame, { id: string }>): Promise<HubFrame | undefined> {
    const { port } = this.services;
    this.unacknowledgedCommands.delete(frame.id);
    const outcome =
      frame.type === 'command_ack'
        ? await port.commandAcknowledged(this.deviceId, frame.id)
        : await port.commandResult(this.deviceId, frame.id, frame.payload);
    if (outcome.ok) return frame.seq === undefined ? undefined : ackFrame(frame.seq);
    return errorFrame(outcome.code, outcome.message, frame.seq, frame.id);
  }

  private ingest(frame: Extract<DeviceFrame, { data: unknown }>, receivedAt: number): Promise<IngestOutcome> {
    const { port } = this.services;
    const payload = { json: frame.data };
    // State reports of one device are merged in arrival order by IngestService.
    return frame.type === 'telemetry'
      ? port.ingestTelemetry(this.deviceId, TRANSPORT, payload, receivedAt)
      : port.reportState(this.deviceId, TRANSPORT, payload);
  }

  private send(answer: HubFrame | undefined): void {
    if (!answer || this.websocket.readyState !== WebSocket.OPEN) return;
    this.corkForThisTick();
    this.websocket.send(JSON.stringify(answer));
  }

  /**
   * One commit releases many answers at once; without corking, `ws` makes one system call per frame. Corked
   * until the end of the tick, they leave in one write (as libs/mqtt's PacketWriter does for PUBACKs).
   */
  private corkForThisTick(): void {
    if (this.corked) return;
    const socket = (this.websocket as unknown as { _socket?: Duplex })._socket;
    if (!socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** `ws` has already started closing with the matching status (1009, 1002, 1007) when it reports these. */
  private onSocketError(error: Error & { code?: string }): void {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.closeReason ??= 'packet_too_large';
      const message = `a frame exceeded ${this.services.maxMessageBytes} bytes (TELEHUB_MAX_MESSAGE_BYTES)`;
      this.services.port.recordRejected(this.deviceId, TRANSPORT, 'message_too_large', message);
    } else if (error.code?.startsWith('WS_ERR_')) {
      this.closeReason ??= 'protocol_error';
      this.services.port.recordRejected(this.deviceId, TRANSPORT, 'protocol_error', error.message, {
        wsCode: error.code,
      });
    } else {
      this.closeReason ??= 'socket_error';
    }
    this.services.logger.debug({ err: error, deviceId: this.deviceId }, 'device WebSocket error');
  }

  private onClosed(code: number): void {
    this.isEnded = true;
    // 1005: the device sent a close frame without a status; 1006: the connection dropped without one.
    const reason =
      this.closeReason ?? (code === DEVICE_WS_CLOSE.abnormal_closure.code ? 'socket_closed' : 'client_disconnect');
    this.markEnded(reason);
  }
}
