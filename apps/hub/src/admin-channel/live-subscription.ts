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

interface BufferedPoint {
  deviceId: string;
  metric: string;
  time: number;
  value: number;
  xid: string | undefined;
}

/** Whether the batch committed by this transaction is in the subscription's snapshot. */
export type SnapshotMembership = (xid: string) => boolean;

const seriesKey = (deviceId: string, metric: string) => `${deviceId}\u0000${metric}`;

/**
 * One admin subscription's live points: filtered, gathered between flushes, coalesced to the subscription's
 * rate, and joined to its snapshot without gap or duplicate.
 *
 * Until the snapshot is read the subscription is *buffering*: every matching committed point is kept with the
 * id of the transaction that committed it. The snapshot's reader then says which transactions it saw
 * (`includedInSnapshot`); a point is passed on live only when its transaction was not among them, before or
 * after going live. So every committed point is in the snapshot or live, never both and never neither, whatever
 * the order batches commit in or the times devices give their points.
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
  private includedInSnapshot: SnapshotMembership | undefined;
  private buffered: BufferedPoint[] = [];
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
    return this.includedInSnapshot !== undefined;
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

  /** Whether it takes any live points at all (an empty metrics list asks for events only). */
  get wantsPoints(): boolean {
    return this.metrics === undefined || this.metrics.size > 0;
  }

  coversMetric(metric: string): boolean {
    return this.metrics === undefined || this.metrics.has(metric);
  }

  /** Whether points committed by `xid` are live for this subscription: not in its snapshot (asked once a batch). */
  acceptsBatch(xid: string | undefined): boolean {
    if (this.includedInSnapshot === undefined || xid === undefined) return true;
    return !this.includedInSnapshot(xid);
  }

  /** A committed point of a covered device, from a batch acceptsBatch() let through; returns whether it was kept. */
  add(deviceId: string, metric: string, time: number, value: number, xid?: string): boolean {
    if (!this.coversMetric(metric)) return false;
    if (this.includedInSnapshot === undefined) {
      this.buffered.push({ deviceId, metric, time, value, xid });
      // The snapshot query is slow or the fleet busy: keep the newest, count the rest as lag.
      if (this.buffered.length > this.maxPendingPoints) {
        this.buffered.shift();
        this.dropped += 1;
      }
      return true;
    }
    this.push(deviceId, metric, time, value);
    return true;
  }

  /** Points of a covered series left out before they reached this process (another hub sent only the newest). */
  countDropped(metric: string, dropped: number): boolean {
    if (!this.coversMetric(metric) || dropped <= 0) return false;
    this.dropped += dropped;
    return true;
  }

  /** The snapshot was read: buffered points it did not include become live. */
  goLive(includedInSnapshot: SnapshotMembership): void {
    this.includedInSnapshot = includedInSnapshot;
    const decided = new Map<string | undefined, boolean>();
    for (const point of this.buffered) {
      let live = decided.get(point.xid);
      if (live === undefined) {
        live = this.acceptsBatch(point.xid);
        decided.set(point.xid, live);
      }
      if (live) this.push(point.deviceId, point.metric, point.time, point.value);
    }
    this.buffered = [];
  }

  private push(deviceId: string, metric: string, time: number, value: number): void {
    const key = seriesKey(deviceId, metric);
    let series = this.pending.get(key);
    if (!series) {
      series = { deviceId, metric, times: [], values: [] };
      this.pending.set(key, series);
    }
    series.times.push(time);
    series.values.push(value);
    this.pendingPoints += 1;
    if (this.pendingPoints > this.maxPendingPoints) this.keepNewestOnly();
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
