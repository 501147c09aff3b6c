/** A bucket size: its canonical label (`5m`) and milliseconds. */
export interface Bucket {
  label: string;
  ms: number;
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** The round sizes an automatic bucket is chosen from, smallest first. */
export const BUCKET_LADDER: readonly Bucket[] = [
  '1s',
  '5s',
  '10s',
  '30s',
  '1m',
  '5m',
  '15m',
  '30m',
  '1h',
  '3h',
  '6h',
  '12h',
  '1d',
  '7d',
].map((label) => parseBucket(label) as Bucket);

/** `raw`, or `<n><s|m|h|d|w>` (n ≥ 1); undefined for anything else. */
export function parseBucket(text: string): Bucket | 'raw' | undefined {
  if (text === 'raw') return 'raw';
  const match = /^([1-9]\d{0,8})([smhdw])$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  return { label: formatBucket(ms), ms };
}

/** The label in the largest unit that divides the size: 60000 → `1m`, 90000 → `90s`, 604800000 → `7d`. */
export function formatBucket(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms / 1000}s`;
}

/** Points one series gets over a range: one per bucket the range touches (at most one more when unaligned). */
export function pointsPerSeries(rangeMs: number, bucketMs: number): number {
  return Math.ceil(rangeMs / bucketMs);
}

/**
 * The smallest ladder size that gives at most `maxPoints` points over `rangeMs`. Beyond the ladder (a range
 * of decades at a few points), whole weeks: never more than `maxPoints`.
 */
export function chooseBucket(rangeMs: number, maxPoints: number): Bucket {
  for (const bucket of BUCKET_LADDER) {
    if (pointsPerSeries(rangeMs, bucket.ms) <= maxPoints) return bucket;
  }
  const weeks = Math.ceil(rangeMs / (maxPoints * UNIT_MS.w));
  const ms = weeks * UNIT_MS.w;
  return { label: formatBucket(ms), ms };
}
