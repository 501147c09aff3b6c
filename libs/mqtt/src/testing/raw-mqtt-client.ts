import type { Duplex } from 'node:stream';
import { parser as createParser, generate, type Packet } from 'mqtt-packet';

/**
 * The client end of a connection driven packet by packet with mqtt-packet, for tests that need exact bytes:
 * raw fixtures, split writes, malformed input, and checks of what the server wrote and when.
 */
export class RawMqttClient {
  /** Every packet received, in order. */
  readonly packets: Packet[] = [];
  /** Every chunk received, to check how writes were batched. */
  readonly chunks: Buffer[] = [];
  /** Resolves when the stream has closed. */
  readonly closed: Promise<void>;
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private isClosed = false;

  constructor(
    readonly stream: Duplex,
    private readonly protocolVersion: 4 | 5 = 4,
  ) {
    const parser = createParser({ protocolVersion });
    parser.on('packet', (packet) => {
      this.packets.push(packet);
      this.wake();
    });
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      parser.parse(chunk);
    });
    stream.on('error', () => {});
    this.closed = new Promise((resolve) => stream.once('close', () => resolve()));
    this.closed.then(() => {
      this.isClosed = true;
      this.wake();
    });
  }

  get isStreamClosed(): boolean {
    return this.isClosed;
  }

  send(packet: Packet): void {
    this.stream.write(generate(packet, { protocolVersion: this.protocolVersion }));
  }

  sendRaw(bytes: Buffer | readonly number[]): void {
    this.stream.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  }

  /** The next packet not returned before; rejects if the stream closes or nothing arrives in time. */
  async next(timeoutMs = 1000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.packets.length) {
      if (this.isClosed) throw new Error('stream closed before the next packet');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet within ${timeoutMs} ms`);
      await this.waitForActivity(left);
    }
    return this.packets[this.cursor++]!;
  }

  /** Packets received but not yet returned by next(). */
  pending(): Packet[] {
    return this.packets.slice(this.cursor);
  }

  private waitForActivity(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
