import { TokenBucket } from './token-bucket.js';

/** How often buckets that refilled completely are forgotten. */
const SWEEP_INTERVAL_MS = 10_000;
/** TokenBucket's throttle window; these buckets only refuse, so it does not matter here. */
const UNUSED_WINDOW_MS = 60_000;

/**
 * One token bucket per key (a source address, a device), for limits that refuse rather than wait. A key has a
 * bucket only while it is below its burst: full buckets are forgotten, and past `maxKeys` the key that took
 * least recently is, so the map stays small whatever the keys are.
 */
export class KeyedTokenBuckets<K> {
  private readonly buckets = new Map<K, TokenBucket>();
  private lastSweep: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxKeys = Number.POSITIVE_INFINITY,
    now = performance.now(),
  ) {
    this.lastSweep = now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Milliseconds until `key` has a token (0: it has one now); takes nothing. */
  waitMs(key: K, now = performance.now()): number {
    return this.buckets.get(key)?.waitMs(now) ?? 0;
  }

  /** Takes a token of `key`: 0 when there was one, else milliseconds until there will be (nothing is taken). */
  take(key: K, now = performance.now()): number {
    this.sweep(now);
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
    } else {
      bucket = new TokenBucket(this.ratePerSec, this.burst, UNUSED_WINDOW_MS, now);
    }
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as K);
    return bucket.tryTake(now);
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}
