/**
 * A latency histogram with fixed log-linear buckets (HdrHistogram's layout, simplified): values are kept in
 * microseconds, exactly below 128 µs and with 64 sub-buckets per power of two above, so any recorded value
 * is within 1.6 % of its bucket. Recording is one array increment, and histograms from several generator
 * processes merge by adding counts, which exact percentiles over millions of samples could not do cheaply.
 */

/** Exact buckets below 2 × SUB_BUCKETS µs; above, SUB_BUCKETS buckets per power of two. */
const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 2 * SUB_BUCKETS;
const SUB_BITS = Math.log2(SUB_BUCKETS);
/** 2^37 µs is about 38 hours: far beyond any bench duration; larger values land in the last bucket. */
const MAX_EXPONENT = 37;
const BUCKET_COUNT = LINEAR_LIMIT + (MAX_EXPONENT - SUB_BITS - 1) * SUB_BUCKETS;

/** A histogram as it crosses process boundaries (IPC) and lands in results JSON: only non-empty buckets. */
export interface HistogramSnapshot {
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
  /** [bucket index, count] pairs. */
  buckets: Array<[number, number]>;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    const histogram = new LatencyHistogram();
    histogram.add(snapshot);
    return histogram;
  }

  get count(): number {
    return this.total;
  }

  record(valueMs: number): void {
    const micros = Math.max(0, Math.round(valueMs * 1000));
    this.counts[bucketIndex(micros)]! += 1;
    this.total += 1;
    this.sum += valueMs;
    if (valueMs < this.min) this.min = valueMs;
    if (valueMs > this.max) this.max = valueMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  add(other: HistogramSnapshot): void {
    for (const [index, count] of other.buckets) this.counts[index]! += count;
    this.total += other.count;
    this.sum += other.sumMs;
    if (other.count > 0) {
      this.min = Math.min(this.min, other.minMs);
      this.max = Math.max(this.max, other.maxMs);
    }
  }

  /**
   * The value below which `fraction` of the samples fall, reported as the upper edge of its bucket (never
   * optimistic by more than the bucket width), and never above the exact maximum.
   */
  percentile(fraction: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(bucketUpperMicros(index) / 1000, this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      meanMs: this.total === 0 ? Number.NaN : this.sum / this.total,
      p50Ms: this.percentile(0.5),
      p90Ms: this.percentile(0.9),
      p99Ms: this.percentile(0.99),
      p999Ms: this.percentile(0.999),
      maxMs: this.total === 0 ? Number.NaN : this.max,
    };
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<[number, number]> = [];
    for (let index = 0; index < BUCKET_COUNT; index++) {
      const count = this.counts[index]!;
      if (count > 0) buckets.push([index, count]);
    }
    return { count: this.total, sumMs: this.sum, minMs: this.total ? this.min : 0, maxMs: this.max, buckets };
  }
}

export function mergeHistograms(snapshots: HistogramSnapshot[]): LatencyHistogram {
  const merged = new LatencyHistogram();
  for (const snapshot of snapshots) merged.add(snapshot);
  return merged;
}

function bucketIndex(micros: number): number {
  if (micros < LINEAR_LIMIT) return micros;
  if (micros >= 2 ** MAX_EXPONENT) return BUCKET_COUNT - 1;
  let shift = Math.floor(Math.log2(micros)) - SUB_BITS;
  let mantissa = Math.floor(micros / 2 ** shift);
  // Math.log2 may round up just below a power of two; keep the mantissa in [SUB_BUCKETS, 2 × SUB_BUCKETS).
  if (mantissa < SUB_BUCKETS) {
    shift -= 1;
    mantissa = Math.floor(micros / 2 ** shift);
  }
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS);
}

/** The largest value (µs) that falls into bucket `index`. */
function bucketUpperMicros(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const mantissa = ((index - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS;
  return (mantissa + 1) * 2 ** shift - 1;
}
