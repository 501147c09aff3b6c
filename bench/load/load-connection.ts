/** One simulated device as the load worker drives it, whatever the transport. */
export interface LoadConnection {
  /** Publishes sent and not yet answered. */
  readonly outstanding: number;
  readonly hasFreeSlot: boolean;
  readonly isOpen: boolean;
  /** performance.now() of the last packet or frame written: keep-alive is due only after a quiet spell. */
  readonly lastWriteAt: number;
  /** Resolves once the server accepted the session (CONNACK 0, WebSocket open); rejects with a short reason code. */
  connect(): Promise<void>;
  /**
   * Unpaced mode: send a new publish each time one is answered, keeping the window full. Setting it does not
   * send anything by itself; call fillWindow().
   */
  refill: boolean;
  fillWindow(): void;
  /** Sends one publish from a free slot of the window; false when the window is full. */
  publishOne(): boolean;
  /** Keep-alive on an otherwise idle connection (MQTT PINGREQ, WebSocket ping). */
  ping(): void;
  /** Says goodbye (MQTT DISCONNECT, WebSocket close) and ends the socket. */
  close(): void;
}

export interface LoadConnectionHooks {
  /** A publish was answered; `ok` false when the answer was a refusal (it still frees its slot). */
  onAck(latencyMs: number, ok: boolean): void;
  onPingResponse(): void;
  /** The connection ended after it had been established. */
  onClose(): void;
}

export interface LoadTarget {
  host: string;
  port: number;
  localAddress: string | undefined;
  connectTimeoutMs: number;
}

/**
 * The window of unacknowledged publishes of one connection: slot i is always sent as the same pre-encoded
 * packet (MQTT packet id i + 1, WebSocket seq i), and is reused only after its answer arrived, so ids of
 * messages in flight never collide and nothing is encoded per message.
 */
export class PublishWindow {
  private readonly sentAt: Float64Array;
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(readonly size: number) {
    this.sentAt = new Float64Array(size).fill(-1);
    this.free = new Int32Array(size);
    for (let slot = 0; slot < size; slot++) this.free[slot] = size - 1 - slot;
    this.freeCount = size;
  }

  get outstanding(): number {
    return this.size - this.freeCount;
  }

  get hasFree(): boolean {
    return this.freeCount > 0;
  }

  /** Takes a free slot and stamps its send time; -1 when the window is full. */
  take(now: number): number {
    if (this.freeCount === 0) return -1;
    const slot = this.free[--this.freeCount]!;
    this.sentAt[slot] = now;
    return slot;
  }

  /** Frees an answered slot and returns the time since it was sent; NaN for a slot not in flight (a stray answer). */
  settle(slot: number, now: number): number {
    if (slot < 0 || slot >= this.size) return Number.NaN;
    const sentAt = this.sentAt[slot]!;
    if (sentAt < 0) return Number.NaN;
    this.sentAt[slot] = -1;
    this.free[this.freeCount++] = slot;
    return now - sentAt;
  }
}
