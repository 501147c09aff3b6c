import { connect, type Socket } from 'node:net';

export type LoadTransport = 'mqtt' | 'mqtt-ws' | 'ws';

export interface WindowedPublisherOptions {
  /** The hub's MQTT port for MQTT over TCP, its HTTP port for the WebSocket transports. */
  port: number;
  deviceId: string;
  token: string;
  /** Unacknowledged messages kept in flight. */
  window: number;
  /** Spaces after each JSON payload, so a window holds more bytes than a socket's read buffer. */
  padding: number;
}

/**
 * A device that publishes telemetry as fast as its window of unacknowledged messages allows, one point per
 * message with a unique value (`{"v": n}`), and keeps publishing until the connection closes. It records the
 * values acknowledged, what the hub said when it closed the session, and any error of its TCP socket: a socket
 * the hub resets instead of closing reports ECONNRESET or EPIPE.
 */
export abstract class WindowedPublisher {
  abstract readonly transport: LoadTransport;
  /** Values whose positive acknowledgement arrived. */
  readonly acked: number[] = [];
  /** Negative acknowledgements (MQTT reason codes ≥ 0x80, WebSocket error codes). */
  readonly refused: Array<number | string> = [];
  /** MQTT: the DISCONNECT reason code received; device WebSocket: the close code. */
  farewell: number | undefined;
  /** Errors of the TCP socket under the connection. */
  readonly socketErrors: string[] = [];
  readonly closed: Promise<void>;
  protected readonly socket: Socket;
  protected readonly padding: string;
  private readonly inflight = new Map<number, number>();
  private readonly freeSlots: number[];
  private nextValue = 1;
  private running = false;

  protected constructor(
    protected readonly options: WindowedPublisherOptions,
    allowHalfOpen = false,
  ) {
    this.freeSlots = Array.from({ length: options.window }, (_, index) => index + 1);
    this.padding = ' '.repeat(options.padding);
    this.socket = connect({ port: options.port, host: '127.0.0.1', noDelay: true, allowHalfOpen });
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.socketErrors.push(error.code ?? error.message));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** The TCP connection, for transports that layer on it (`ws`'s createConnection option). */
  protected readonly tcpConnection = (): Socket => this.socket;

  get sent(): number {
    return this.nextValue - 1;
  }

  /** Fills the window; every acknowledgement sends the next message, until the connection closes. */
  start(): void {
    this.running = true;
    this.fill();
  }

  /** Writes one telemetry message in the transport's protocol. */
  protected abstract send(slot: number, value: number): void;

  protected abstract get writable(): boolean;

  protected settle(slot: number, refusal?: number | string): void {
    const value = this.inflight.get(slot);
    if (value === undefined) return;
    this.inflight.delete(slot);
    this.freeSlots.push(slot);
    if (refusal === undefined) this.acked.push(value);
    else this.refused.push(refusal);
    this.fill();
  }

  private fill(): void {
    if (!this.running) return;
    this.socket.cork();
    while (this.freeSlots.length > 0 && this.writable) {
      const slot = this.freeSlots.pop()!;
      const value = this.nextValue++;
      this.inflight.set(slot, value);
      this.send(slot, value);
    }
    this.socket.uncork();
  }
}
