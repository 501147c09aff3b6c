import type { AdminPointsMessage, AdminSnapshotMessage } from '@telehub/contracts';
import type { AdminSocket, Subscription } from '../api/admin-socket.js';
import { LiveSeries } from '../charts/live-series.js';
import { Store } from './store.js';
import type { TimeRange } from './time-ranges.js';

/** How often the live window slides (old points leave the chart) when no new point arrives. */
export const WINDOW_TRIM_INTERVAL_MS = 1000;

export interface LatestValue {
  value: number;
  /** Epoch ms. */
  time: number;
}

export type TelemetryStatus =
  | { kind: 'loading' }
  | { kind: 'live'; bucket: string; bucketMs: number }
  | { kind: 'error'; message: string };

/**
 * One device's charts: a subscription with history for the chosen range, then live points. Every snapshot
 * (a new range, or a reconnect) starts the series over; live points are appended in between.
 */
export class DeviceTelemetry {
  readonly metrics = new Store<readonly string[]>([]);
  readonly status = new Store<TelemetryStatus>({ kind: 'loading' });
  readonly latest = new Store<Readonly<Record<string, LatestValue>>>({});
  /** Points the hub left out because this tab read too slowly, since the last snapshot. */
  readonly dropped = new Store(0);
  private readonly series = new Map<string, LiveSeries>();
  private readonly subscription: Subscription;
  private readonly trimTimer: ReturnType<typeof setInterval>;
  private bucketMs = 0;

  constructor(
    socket: AdminSocket,
    private readonly deviceId: string,
    private range: TimeRange,
  ) {
    this.subscription = socket.subscribe(this.request(), {
      onSnapshot: (message) => this.onSnapshot(message),
      onPoints: (message) => this.onPoints(message),
      onLagged: (message) => this.dropped.update((count) => count + message.dropped),
      onError: (message) => this.status.set({ kind: 'error', message: message.message }),
    });
    this.trimTimer = setInterval(() => this.trim(), WINDOW_TRIM_INTERVAL_MS);
  }

  get windowMs(): number {
    return this.range.windowMs;
  }

  setRange(range: TimeRange): void {
    if (range.key === this.range.key) return;
    this.range = range;
    this.status.set({ kind: 'loading' });
    this.subscription.update(this.request());
  }

  /** Seeds the latest values from the device's REST detail; live points then move them on. */
  seedLatest(latest: Record<string, { value: number; time: string }>): void {
    const seeded: Record<string, LatestValue> = {};
    for (const [metric, item] of Object.entries(latest))
      seeded[metric] = { value: item.value, time: Date.parse(item.time) };
    this.latest.update((current) => mergeNewer(seeded, current));
    this.addMetrics(Object.keys(latest));
  }

  seriesOf(metric: string): LiveSeries {
    let series = this.series.get(metric);
    if (!series) {
      series = new LiveSeries();
      series.reset([], [], this.bucketMs);
      this.series.set(metric, series);
    }
    return series;
  }

  dispose(): void {
    clearInterval(this.trimTimer);
    this.subscription.close();
  }

  private request() {
    return {
      devices: [this.deviceId],
      metrics: '*' as const,
      history: this.range.history,
      agg: 'avg' as const,
      events: true,
    };
  }

  private onSnapshot(message: AdminSnapshotMessage): void {
    this.bucketMs = message.bucketMs;
    this.dropped.set(0);
    const seen = new Set<string>();
    for (const item of message.series) {
      if (item.deviceId !== this.deviceId) continue;
      seen.add(item.metric);
      this.seriesOf(item.metric).reset(item.times, item.values, message.bucketMs);
    }
    // Metrics with nothing in this range keep their (now empty) chart, saying so.
    for (const [metric, series] of this.series) if (!seen.has(metric)) series.reset([], [], message.bucketMs);
    this.addMetrics([...seen]);
    this.status.set({ kind: 'live', bucket: message.bucket, bucketMs: message.bucketMs });
  }

  private onPoints(message: AdminPointsMessage): void {
    const newest: Record<string, LatestValue> = {};
    for (const item of message.series) {
      if (item.deviceId !== this.deviceId || item.times.length === 0) continue;
      this.seriesOf(item.metric).add(item.times, item.values);
      const last = item.times.length - 1;
      newest[item.metric] = { time: item.times[last]!, value: item.values[last]! };
    }
    this.addMetrics(Object.keys(newest));
    this.latest.update((current) => mergeNewer(newest, current));
  }

  private addMetrics(names: string[]): void {
    const current = this.metrics.get();
    const missing = names.filter((name) => !current.includes(name));
    if (missing.length === 0) return;
    for (const name of missing) this.seriesOf(name);
    this.metrics.set([...current, ...missing].sort((a, b) => a.localeCompare(b)));
  }

  private trim(): void {
    // A bucket that started just before the window still holds points inside it.
    const start = Date.now() - this.range.windowMs - this.bucketMs;
    for (const series of this.series.values()) series.trimBefore(start);
  }
}

function mergeNewer(
  incoming: Record<string, LatestValue>,
  current: Readonly<Record<string, LatestValue>>,
): Record<string, LatestValue> {
  const merged = { ...current };
  for (const [metric, item] of Object.entries(incoming)) {
    const existing = merged[metric];
    if (!existing || item.time >= existing.time) merged[metric] = item;
  }
  return merged;
}
