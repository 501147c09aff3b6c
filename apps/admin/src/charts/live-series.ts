import { SeriesBuffer } from './series-buffer.js';

/** The most points a raw live series keeps; the oldest go first. Bounds memory for a busy device. */
export const MAX_RAW_POINTS = 300_000;

interface OpenBucket {
  /** Where the bucket's point sits on the time axis. */
  time: number;
  sum: number;
  count: number;
}

/**
 * A chart series fed by a snapshot and then live points, the way the admin channel sends them: history
 * (possibly bucketed) up to a watermark, then raw points strictly after it.
 *
 * With buckets, live points are averaged into buckets of the same width, so the live end of a 7-day chart
 * looks like its history and stays a few hundred points, however fast the device sends. The snapshot does not
 * say how many rows its last, partial bucket held, so live points in that same bucket get a point of their own
 * (at the first live point's time) rather than being averaged into it with a made-up weight. Points older than
 * that bucket (a device sending backdated data) are shown as they are.
 */
export class LiveSeries {
  readonly buffer = new SeriesBuffer();
  private bucketMs = 0;
  /** Start of the snapshot's newest bucket; live points before it are backfill. */
  private snapshotEnd = Number.NEGATIVE_INFINITY;
  private readonly open = new Map<number, OpenBucket>();

  /** Starts over from a snapshot series (or from nothing, for a metric the snapshot did not have). */
  reset(times: ArrayLike<number>, values: ArrayLike<number>, bucketMs: number): void {
    this.bucketMs = Math.max(0, bucketMs);
    this.open.clear();
    this.buffer.reset(times, values);
    const last = this.buffer.lastTime();
    this.snapshotEnd = last === undefined ? Number.NEGATIVE_INFINITY : this.bucketStart(last);
  }

  /** Live points (raw, committed, strictly after the snapshot's watermark). */
  add(times: ArrayLike<number>, values: ArrayLike<number>): void {
    const count = Math.min(times.length, values.length);
    for (let i = 0; i < count; i++) this.addPoint(times[i]!, values[i]!);
    if (this.bucketMs === 0) this.buffer.keepLast(MAX_RAW_POINTS);
  }

  /** The sliding window: forgets what is older than `time`. */
  trimBefore(time: number): void {
    if (this.buffer.trimBefore(time) === 0) return;
    for (const key of this.open.keys()) if (key + this.bucketMs < time) this.open.delete(key);
  }

  private addPoint(time: number, value: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(value)) return;
    if (this.bucketMs === 0) {
      this.buffer.insert(time, value);
      return;
    }
    const key = this.bucketStart(time);
    if (key < this.snapshotEnd) {
      this.buffer.insert(time, value);
      return;
    }
    let bucket = this.open.get(key);
    if (!bucket) {
      bucket = { time: key === this.snapshotEnd ? time : key, sum: 0, count: 0 };
      this.open.set(key, bucket);
    }
    bucket.sum += value;
    bucket.count += 1;
    this.buffer.upsert(bucket.time, bucket.sum / bucket.count);
  }

  private bucketStart(time: number): number {
    return this.bucketMs === 0 ? time : Math.floor(time / this.bucketMs) * this.bucketMs;
  }
}
