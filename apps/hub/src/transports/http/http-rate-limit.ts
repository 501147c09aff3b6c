import { TokenBucket } from '../../sessions/token-bucket.js';

/** How often buckets that refilled completely are forgotten. */
const SWEEP_INTERVAL_MS = 10_000;

export interface RateSettings {
  /** TELEHUB_DEVICE_RATE_PER_SEC */
  ratePerSec: number;
  /** TELEHUB_DEVICE_RATE_BURST */
  rateBurst: number;
  /** TELEHUB_RATE_LIMIT_DISCONNECT_MS (the bucket's throttle window; HTTP refuses instead of disconnecting). */
  rateLimitDisconnectMs: number;
}

/**
 * The per-device message rate for HTTP devices. A socket can be paused until the budget allows the next
 * message; an HTTP request cannot wait without holding the client's connection, so it is refused with
 * `429 Too Many Requests` and how long to wait (RFC 6585 §4). Only authenticated devices have a bucket, and a
 * bucket that refilled completely is forgotten, so the map holds the devices posting right now.
 */
export class HttpRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep = performance.now();

  constructor(private readonly settings: RateSettings) {}

  /** 0 when the device may send now (the message is counted), else milliseconds until it may. */
  admit(deviceId: string, now = performance.now()): number {
    this.sweep(now);
    let bucket = this.buckets.get(deviceId);
    if (!bucket) {
      const { ratePerSec, rateBurst, rateLimitDisconnectMs } = this.settings;
      bucket = new TokenBucket(ratePerSec, rateBurst, rateLimitDisconnectMs, now);
      this.buckets.set(deviceId, bucket);
    }
    return bucket.tryTake(now);
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [deviceId, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(deviceId);
  }
}
