/**
 * Events per second over a sliding window of whole seconds, in constant memory: one slot per second of the
 * window, reused round-robin. The rate counts the last `windowSeconds` complete seconds, so a steady stream
 * reads exactly its rate and the figure is at most one second old; while the window is younger than that,
 * it divides by the complete seconds seen so far.
 */
export class RateWindow {
  private readonly counts: Float64Array;
  /** The second (epoch s) each slot currently counts; -1: never used. */
  private readonly seconds: Float64Array;
  private readonly startSecond: number;

  constructor(
    readonly windowSeconds = 60,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw new RangeError(`windowSeconds must be a whole number ≥ 1, got ${windowSeconds}`);
    }
    this.counts = new Float64Array(windowSeconds);
    this.seconds = new Float64Array(windowSeconds).fill(-1);
    this.startSecond = Math.floor(now() / 1000);
  }

  /** Counts `count` events at `at` (epoch ms, default now). Events older than the window are ignored. */
  add(count: number, at = this.now()): void {
    if (count <= 0) return;
    const second = Math.floor(at / 1000);
    const slot = second % this.windowSeconds;
    const held = this.seconds[slot]!;
    if (held !== second) {
      if (second < held) return; // the slot already moved on to a later second: this one left the window
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += count;
  }

  /** Events in the last `windowSeconds` complete seconds before the current one. */
  total(at = this.now()): number {
    const current = Math.floor(at / 1000);
    let total = 0;
    for (let slot = 0; slot < this.windowSeconds; slot++) {
      const second = this.seconds[slot]!;
      if (second < current && second >= current - this.windowSeconds) total += this.counts[slot]!;
    }
    return total;
  }

  /** Events per second over the window (over the complete seconds since creation while that is shorter). */
  perSecond(at = this.now()): number {
    const seconds = Math.min(this.windowSeconds, Math.floor(at / 1000) - this.startSecond);
    return seconds > 0 ? this.total(at) / seconds : 0;
  }
}
