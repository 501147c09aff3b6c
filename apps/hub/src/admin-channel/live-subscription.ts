import type { AdminSeries } from '@telehub/contracts';

export interface LiveSubscriptionOptions {
  id: string;
  /** undefined: every device. */
  devices: ReadonlySet<string> | undefined;
  /** undefined: every metric. */
  metrics: ReadonlySet<string> | undefined;
  /** Also relay presence, state, device events and command status of the subscribed devices. */
  events: boolean;
  /** At most one points message per this many milliseconds (1000 / the subscription's rate). */
  intervalMs: number;
  /** Above this many points waiting, only the newest point of each series is kept (and the rest counted). */
  maxPendingPoints: number;
}

export interface Flush {
  series: AdminSeries[];
  /** Points left out since the last flush because the client read too slowly. */
  dropped: number;
}

type PendingSeries = AdminSeries;

const seriesKey = (deviceId: string, metric: string) => `${deviceId}\u0000${metric}`;

/**
 * One admin subscription's live points: filtered, gathered between flushes, coalesced to the subscription's
 * rate, and joined to its snapshot without gap or duplicate.
 *
 * Until the snapshot is sent the subscription is *buffering*: every matching committed point is kept. The
 * snapshot then names, per series, the newest time it includes; buffered and later points are passed on only
 * when strictly newer, so a point is either in the snapshot or live, never both and never neither (for a series
 * whose points arrive in time order, which is what devices send; a backfilled older point shows in history).
 *
 * No timers or sockets here: the session decides when to flush (rate and socket back-pressure).
 */
export class LiveSubscription {
  readonly id: string;
  readonly events: boolean;
  readonly intervalMs: number;
  private readonly devices: ReadonlySet<string> | undefined;
  private readonly metrics: ReadonlySet<string> | undefined;
  private readonly maxPendingPoints: number;
  private watermarks: ReadonlyMap<string, number> | undefined;
  private pending = new Map<string, PendingSeries>();
  private pendingPoints = 0;
  private dropped = 0;
  /** When the last points message went out (epoch ms); 0: never. */
  lastFlushAt = 0;

  constructor(options: LiveSubscriptionOptions) {
    this.id = options.id;
    this.devices = options.devices;
    this.metrics = options.metrics;
    this.events = options.events;
    this.intervalMs = options.intervalMs;
    this.maxPendingPoints = options.maxPendingPoints;
  }

  get isLive(): boolean {
    return this.watermarks !== undefined;
  }

  get hasPending(): boolean {
    return this.pendingPoints > 0 || this.dropped > 0;
  }

  /** Every device (`*`): such subscriptions see every row, so the channel keeps them apart from its index. */
  get deviceIds(): ReadonlySet<string> | undefined {
    return this.devices;
  }

  coversDevice(deviceId: string | null): boolean {
    return deviceId !== null && (this.devices === undefined || this.devices.has(deviceId));
  }

  coversMetric(metric: string): boolean {
    return this.metrics === undefined || this.metrics.has(metric);
  }

  /** A committed point of a covered device; returns whether it was kept. */
  add(deviceId: string, metric: string, time: number, value: number): boolean {
    if (!this.coversMetric(metric)) return false;
    const key = seriesKey(deviceId, metric);
    if (this.watermarks !== undefined && time <= (this.watermarks.get(key) ?? Number.NEGATIVE_INFINITY)) return false;
    let series = this.pending.get(key);
    if (!series) {
      series = { deviceId, metric, times: [], values: [] };
      this.pending.set(key, series);
    }
    series.times.push(time);
    series.values.push(value);
    this.pendingPoints += 1;
    if (this.pendingPoints > this.maxPendingPoints) this.keepNewestOnly();
    return true;
  }

  /**
   * The snapshot went out: `newest` holds, per series it included, the time of its newest point. Buffered
   * points not newer than that are in the snapshot already and are dropped here, without counting as lag.
   */
  goLive(newest: ReadonlyMap<string, number>): void {
    this.watermarks = newest;
    for (const [key, series] of this.pending) {
      const mark = newest.get(key);
      if (mark === undefined) continue;
      const keep = series.times.map((time) => time > mark);
      const before = series.times.length;
      series.times = series.times.filter((_, index) => keep[index]);
      series.values = series.values.filter((_, index) => keep[index]);
      this.pendingPoints -= before - series.times.length;
      if (series.times.length === 0) this.pending.delete(key);
    }
  }

  /**
   * The client is reading too slowly: of each series only the newest point stays, so the next message shows
   * the current values; the rest are counted and reported as `lagged`.
   */
  keepNewestOnly(): void {
    for (const series of this.pending.values()) {
      const extra = series.times.length - 1;
      if (extra <= 0) continue;
      // Points arrive per batch in commit order, not necessarily in time order: keep the newest by time.
      let newest = 0;
      for (let index = 1; index < series.times.length; index += 1) {
        if ((series.times[index] as number) >= (series.times[newest] as number)) newest = index;
      }
      series.times = [series.times[newest] as number];
      series.values = [series.values[newest] as number];
      this.dropped += extra;
      this.pendingPoints -= extra;
    }
  }

  /** Hands over what is waiting and starts gathering anew. */
  take(now: number): Flush {
    const flush = { series: [...this.pending.values()], dropped: this.dropped };
    this.pending = new Map();
    this.pendingPoints = 0;
    this.dropped = 0;
    this.lastFlushAt = now;
    return flush;
  }
}

export function newestKey(deviceId: string, metric: string): string {
  return seriesKey(deviceId, metric);
}
