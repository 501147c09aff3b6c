import type { DatabaseMode } from './database-mode.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/**
 * Where history is kept: the raw rows, and on TimescaleDB the 1-minute and 1-hour continuous aggregates. Each
 * tier has its own retention, longest for the coarsest (see RetentionTiers).
 */
export type HistoryTier = 'raw' | '1m' | '1h';

/** Days each tier keeps (0: forever). The hub checks raw ≤ 1m ≤ 1h, 0 counting as forever. */
export interface RetentionTiers {
  rawDays: number;
  minuteDays: number;
  hourDays: number;
}

/** The relation each tier is read from. */
export const TIER_RELATIONS = { raw: 'telemetry', '1m': 'telemetry_1m', '1h': 'telemetry_1h' } as const;
export type TierRelation = (typeof TIER_RELATIONS)[HistoryTier];

export const TIER_BUCKET_MS = { raw: 0, '1m': MINUTE_MS, '1h': HOUR_MS } as const;

/**
 * The coarsest tier that can answer buckets of `bucketMs`: an aggregate answers whole multiples of its bucket.
 * Being the coarsest, it is also the one kept longest, so every bucket size reaches as far back as any tier can.
 */
export function tierFor(mode: DatabaseMode, bucketMs: number): HistoryTier {
  if (mode !== 'timescaledb' || bucketMs <= 0) return 'raw';
  if (bucketMs % HOUR_MS === 0) return '1h';
  if (bucketMs % MINUTE_MS === 0) return '1m';
  return 'raw';
}

export function tierRetentionDays(tier: HistoryTier, retention: RetentionTiers): number {
  return tier === 'raw' ? retention.rawDays : tier === '1m' ? retention.minuteDays : retention.hourDays;
}

/** The oldest time a tier still holds whole (epoch ms), or -Infinity when it keeps everything. */
export function tierHorizon(tier: HistoryTier, retention: RetentionTiers, nowMs: number): number {
  const days = tierRetentionDays(tier, retention);
  return days > 0 ? nowMs - days * DAY_MS : Number.NEGATIVE_INFINITY;
}

/** A half-open range of epoch ms, [from, to). */
export type Interval = readonly [from: number, to: number];

export interface StaleClip {
  /** The range a query reads, aligned to the aggregate's buckets. */
  fromMs: number;
  toMs: number;
  /** The aggregate's watermark: buckets from here on are read from raw rows by real-time aggregation anyway. */
  watermarkMs: number;
  /** Raw rows are complete from here on (the raw tier's horizon); older, the aggregate is all there is. */
  rawFromMs: number;
  /** The aggregate's bucket. */
  bucketMs: number;
  /** At most this many intervals come out: the closest are merged beyond it (reading a few more raw rows). */
  maxIntervals: number;
}

/**
 * The aggregate buckets a query must read from raw rows because the aggregate does not hold their current
 * figures: TimescaleDB's invalidation ranges (inclusive, from late or changed rows) widened to whole buckets,
 * cut to the query's range, below the watermark and within the raw retention, merged and sorted.
 */
export function staleIntervals(invalidated: readonly Interval[], clip: StaleClip): Interval[] {
  const { bucketMs } = clip;
  const lowest = Math.max(clip.fromMs, ceilTo(clip.rawFromMs, bucketMs));
  const highest = Math.min(clip.toMs, clip.watermarkMs);
  const cut: [number, number][] = [];
  for (const [low, high] of invalidated) {
    const from = Math.max(lowest, floorTo(low, bucketMs));
    const to = Math.min(highest, floorTo(high, bucketMs) + bucketMs);
    if (from < to) cut.push([from, to]);
  }
  cut.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const interval of cut) {
    const last = merged.at(-1);
    if (last && interval[0] <= last[1]) last[1] = Math.max(last[1], interval[1]);
    else merged.push(interval);
  }
  while (merged.length > Math.max(1, clip.maxIntervals)) {
    let closest = 1;
    for (let index = 2; index < merged.length; index++) {
      if (merged[index]![0] - merged[index - 1]![1] < merged[closest]![0] - merged[closest - 1]![1]) closest = index;
    }
    merged[closest - 1]![1] = merged[closest]![1];
    merged.splice(closest, 1);
  }
  return merged;
}

function floorTo(ms: number, stepMs: number): number {
  if (!Number.isFinite(ms)) return ms;
  return Math.floor(ms / stepMs) * stepMs;
}

function ceilTo(ms: number, stepMs: number): number {
  if (!Number.isFinite(ms)) return ms;
  return Math.ceil(ms / stepMs) * stepMs;
}

/** The start of the first whole bucket at or after `ms` (buckets aligned to `originMs`). */
export function ceilToBucket(ms: number, bucketMs: number, originMs: number): number {
  if (!Number.isFinite(ms)) return ms;
  return originMs + Math.ceil((ms - originMs) / bucketMs) * bucketMs;
}
