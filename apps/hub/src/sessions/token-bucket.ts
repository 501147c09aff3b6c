/**
 * Per-device message budget: `burst` tokens, refilled at `ratePerSec`. `take()` answers how long the
 * caller must wait before its message may proceed (0 = at once). Waiting, not refusing: the hub stops
 * reading the device's socket for that long, so nothing is lost and the device slows to the allowed rate.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  /** Exponentially decaying sum of recent wait time, in ms: how much of the recent window was throttled. */
  private throttle = 0;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly windowMs: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  take(now = performance.now()): number {
    this.refill(now);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    const waitMs = (-this.tokens * 1000) / this.ratePerSec;
    // Count each message's own share of the delay once, even when several queue up at the same moment.
    this.throttle += Math.min(waitMs, 1000 / this.ratePerSec);
    return waitMs;
  }

  /**
   * For callers that refuse instead of waiting (HTTP answers 429): takes a token and answers 0 when one is there;
   * otherwise takes nothing and answers how long until one will be.
   */
  tryTake(now = performance.now()): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return ((1 - this.tokens) * 1000) / this.ratePerSec;
  }

  /** Returns a token tryTake() took, for a message refused after all (by a budget shared with other processes). */
  giveBack(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Milliseconds until a token is there (0: one is there now), taking nothing. */
  waitMs(now = performance.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.ratePerSec;
  }

  /** Full again: nothing to remember about this device. */
  isFull(now = performance.now()): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    this.updatedAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
    this.throttle *= Math.exp(-elapsed / this.windowMs);
  }

  /**
   * True once the device has been held back for more than a third of the recent window: it keeps sending
   * faster than allowed (at twice the rate, after about one window; far above it, sooner).
   */
  persistentlyOverLimit(): boolean {
    return this.throttle > this.windowMs / 3;
  }
}
