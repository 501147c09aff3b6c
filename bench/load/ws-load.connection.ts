import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { DEVICE_WS_CLOSE, DEVICE_WS_PATH, type OutgoingDeviceFrame, parseHubFrame } from '@telehub/contracts';
import { WebSocket } from 'ws';
import { type LoadConnection, type LoadConnectionHooks, type LoadTarget, PublishWindow } from './load-connection.js';
import type { LoadDevice } from './load-protocol.js';

/** Pre-serialised telemetry frames, one per window slot (`seq` = slot), shared by every connection of a worker. */
export class WsTelemetryFrames {
  readonly slots: Buffer[];

  constructor(payload: string, window: number) {
    const data: unknown = JSON.parse(payload);
    this.slots = Array.from({ length: window }, (_, seq) =>
      Buffer.from(JSON.stringify({ type: 'telemetry', seq, data } satisfies OutgoingDeviceFrame)),
    );
  }
}

/**
 * The all-zero mask: RFC 6455 §5.3 wants unpredictable masks against cache poisoning by browser scripts,
 * which is no concern for a load generator on loopback, and `ws` skips the XOR pass for a zero mask.
 */
const zeroMask = (): void => undefined;

/**
 * A device on the JSON WebSocket transport, using the `ws` client. Frames are prepared ahead of time; the
 * underlying socket (from the handshake response) is corked for a tick so frames sent together leave together.
 */
export class WsLoadConnection implements LoadConnection {
  refill = false;
  lastWriteAt = 0;
  private websocket: WebSocket | undefined;
  private socket: Socket | undefined;
  private readonly window: PublishWindow;
  private corked = false;
  private established = false;

  constructor(
    private readonly target: LoadTarget,
    private readonly device: LoadDevice,
    private readonly frames: WsTelemetryFrames,
    private readonly hooks: LoadConnectionHooks,
  ) {
    this.window = new PublishWindow(frames.slots.length);
  }

  get outstanding(): number {
    return this.window.outstanding;
  }

  get hasFreeSlot(): boolean {
    return this.established && this.window.hasFree;
  }

  get isOpen(): boolean {
    return this.established && this.websocket?.readyState === WebSocket.OPEN;
  }

  connect(): Promise<void> {
    const { host, port, localAddress, connectTimeoutMs } = this.target;
    return new Promise<void>((resolve, reject) => {
      const websocket = new WebSocket(`ws://${host}:${port}${DEVICE_WS_PATH}`, {
        headers: { Authorization: `Bearer ${this.device.token}` },
        perMessageDeflate: false,
        handshakeTimeout: connectTimeoutMs,
        localAddress,
        generateMask: zeroMask,
      });
      this.websocket = websocket;
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        websocket.terminate();
        reject(new Error(reason));
      };
      websocket.on('upgrade', (response: IncomingMessage) => {
        this.socket = response.socket as Socket;
      });
      websocket.on('unexpected-response', (_request, response: IncomingMessage) => fail(`http_${response.statusCode}`));
      websocket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      websocket.on('open', () => {
        settled = true;
        this.lastWriteAt = performance.now();
        this.established = true;
        resolve();
      });
      websocket.on('message', this.onMessage);
      websocket.on('pong', () => this.hooks.onPingResponse());
      websocket.on('close', () => {
        if (!settled) fail('closed_before_open');
        else if (this.established) {
          this.established = false;
          this.hooks.onClose();
        }
      });
    });
  }

  fillWindow(): void {
    while (this.publishOne()) {}
  }

  publishOne(): boolean {
    if (!this.established) return false;
    const slot = this.window.take(performance.now());
    if (slot < 0) return false;
    this.cork();
    this.lastWriteAt = performance.now();
    this.websocket!.send(this.frames.slots[slot]!, { binary: false, compress: false });
    return true;
  }

  ping(): void {
    if (!this.isOpen) return;
    this.lastWriteAt = performance.now();
    this.websocket!.ping();
  }

  close(): void {
    this.refill = false;
    if (this.isOpen) this.websocket!.close(DEVICE_WS_CLOSE.normal.code);
    else this.websocket?.terminate();
  }

  private cork(): void {
    if (this.corked || !this.socket) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };

  /** `{"type":"ack","seq":n}` or `{"type":"error","seq":n,…}`: answers arrive in the order frames were sent. */
  private readonly onMessage = (data: Buffer): void => {
    const parsed = parseHubFrame(data.toString());
    if (!parsed.ok || parsed.frame.type === 'command') return;
    const answer = parsed.frame;
    const latency = this.window.settle(answer.seq ?? -1, performance.now());
    if (Number.isNaN(latency)) return;
    this.hooks.onAck(latency, answer.type === 'ack');
    if (this.refill) this.publishOne();
  };
}
