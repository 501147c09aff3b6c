/** How often the wheel looks at its due connections: a silent client is closed at most this much late. */
export const KEEP_ALIVE_RESOLUTION_MS = 1000;

/** The session a keep-alive watches. */
export interface KeepAliveOwner {
  /** False while the session does not read (paused, or waiting on its own back-pressure). */
  isReading(): boolean;
  keepAliveExpired(): void;
}

/**
 * Closes a session that has sent no packet for `timeoutMs` (keep-alive × 1.5 [MQTT-3.1.2-24]). Packets only record
 * a timestamp; the wheel looks at the session once its time could be up and, when a packet came meanwhile, files it
 * again for the time left, so a busy session costs no timer churn. While the session is not reading the silence is
 * ours, not the client's, so it does not count.
 */
export class KeepAliveTimer {
  lastSeen = 0;
  /** The wheel's bucket this timer is filed in, while it runs. */
  bucket: number | undefined;

  constructor(
    readonly timeoutMs: number,
    readonly owner: KeepAliveOwner,
    private readonly wheel: KeepAliveWheel = keepAliveWheel,
  ) {}

  start(): void {
    this.touch();
    this.wheel.file(this, this.lastSeen + this.timeoutMs);
  }

  touch(): void {
    this.lastSeen = Date.now();
  }

  stop(): void {
    this.wheel.remove(this);
  }
}

/**
 * One timer for the keep-alives of every session of the process, instead of a `Timeout` per connection (about
 * 200 bytes each with its callback, for every idle device). Sessions are filed in buckets of `resolutionMs` by
 * the time their keep-alive could run out; each tick looks only at the buckets that came due. A session is never
 * closed early, and at most one resolution late. The interval runs only while some session is filed.
 */
export class KeepAliveWheel {
  /** Bucket k is looked at once `origin + k × resolutionMs` has passed. */
  private readonly buckets = new Map<number, Set<KeepAliveTimer>>();
  private origin = 0;
  /** The first bucket not looked at yet. */
  private nextBucket = 0;
  private interval: NodeJS.Timeout | undefined;
  private filed = 0;
  private ticking = false;

  constructor(private readonly resolutionMs = KEEP_ALIVE_RESOLUTION_MS) {}

  /** Files `timer` to be looked at once `dueAt` (ms since the epoch) has passed. */
  file(timer: KeepAliveTimer, dueAt: number): void {
    this.remove(timer);
    if (!this.interval) {
      // Buckets count from the interval's start, so each tick falls on a bucket's start: at most one resolution late.
      this.origin = Date.now();
      this.nextBucket = 0;
      this.interval = setInterval(this.tick, this.resolutionMs);
      this.interval.unref();
    }
    // Rounded up, so never looked at before `dueAt`.
    const bucket = Math.max(Math.ceil((dueAt - this.origin) / this.resolutionMs), this.nextBucket);
    let timers = this.buckets.get(bucket);
    if (!timers) {
      timers = new Set();
      this.buckets.set(bucket, timers);
    }
    timers.add(timer);
    timer.bucket = bucket;
    this.filed += 1;
  }

  remove(timer: KeepAliveTimer): void {
    const bucket = timer.bucket;
    if (bucket === undefined) return;
    timer.bucket = undefined;
    this.filed -= 1;
    const timers = this.buckets.get(bucket);
    if (timers?.delete(timer) && timers.size === 0) this.buckets.delete(bucket);
    if (this.filed === 0 && !this.ticking) this.stopInterval();
  }

  private readonly tick = (): void => {
    const now = Date.now();
    const current = Math.floor((now - this.origin) / this.resolutionMs);
    this.ticking = true;
    try {
      while (this.nextBucket <= current) {
        const bucket = this.nextBucket;
        const timers = this.buckets.get(bucket);
        this.buckets.delete(bucket);
        this.nextBucket += 1;
        if (!timers) continue;
        // A timer stopped meanwhile (its session closed by another's expiry) is no longer filed here.
        for (const timer of timers) if (timer.bucket === bucket) this.check(timer, now);
      }
    } finally {
      this.ticking = false;
    }
    if (this.filed === 0) this.stopInterval();
  };

  private check(timer: KeepAliveTimer, now: number): void {
    this.remove(timer);
    if (!timer.owner.isReading()) timer.lastSeen = now;
    if (now - timer.lastSeen >= timer.timeoutMs) timer.owner.keepAliveExpired();
    else this.file(timer, timer.lastSeen + timer.timeoutMs);
  }

  private stopInterval(): void {
    clearInterval(this.interval);
    this.interval = undefined;
  }
}

/** The wheel of this process. */
export const keepAliveWheel = new KeepAliveWheel();
