/**
 * One time series as two parallel typed arrays, sorted by time, that grow at the end and shrink at the front
 * without copying on every change. uPlot draws `times()` and `values()` directly (views, not copies).
 */
export class SeriesBuffer {
  private timeData: Float64Array;
  private valueData: Float64Array;
  private start = 0;
  private end = 0;
  /** Bumped on every change, so a chart can tell whether it must redraw. */
  version = 0;

  constructor(initialCapacity = 1024) {
    this.timeData = new Float64Array(initialCapacity);
    this.valueData = new Float64Array(initialCapacity);
  }

  get length(): number {
    return this.end - this.start;
  }

  times(): Float64Array {
    return this.timeData.subarray(this.start, this.end);
  }

  values(): Float64Array {
    return this.valueData.subarray(this.start, this.end);
  }

  lastTime(): number | undefined {
    return this.length > 0 ? this.timeData[this.end - 1] : undefined;
  }

  lastValue(): number | undefined {
    return this.length > 0 ? this.valueData[this.end - 1] : undefined;
  }

  /** Replaces everything (a snapshot). The input need not be sorted. */
  reset(times: ArrayLike<number>, values: ArrayLike<number>): void {
    const count = Math.min(times.length, values.length);
    this.start = 0;
    this.end = 0;
    this.reserve(count);
    let sorted = true;
    for (let i = 0; i < count; i++) {
      this.timeData[i] = times[i]!;
      this.valueData[i] = values[i]!;
      if (i > 0 && times[i]! < times[i - 1]!) sorted = false;
    }
    this.end = count;
    if (!sorted) this.sortInPlace();
    this.version++;
  }

  /** Adds a point in time order: at the end when it is the newest (the usual case), else where it belongs. */
  insert(time: number, value: number): void {
    this.reserve(this.length + 1);
    const index = this.end === this.start || time >= this.timeData[this.end - 1]! ? this.end : this.upperBound(time);
    if (index < this.end) {
      this.timeData.copyWithin(index + 1, index, this.end);
      this.valueData.copyWithin(index + 1, index, this.end);
    }
    this.timeData[index] = time;
    this.valueData[index] = value;
    this.end++;
    this.version++;
  }

  /** Sets the value of the point at exactly `time`, or inserts one. */
  upsert(time: number, value: number): void {
    const index = this.lowerBound(time);
    if (index < this.end && this.timeData[index] === time) {
      this.valueData[index] = value;
      this.version++;
      return;
    }
    this.insert(time, value);
  }

  /** Drops the points older than `time`: the sliding window of a live chart. Returns how many went. */
  trimBefore(time: number): number {
    const index = this.lowerBound(time);
    const dropped = index - this.start;
    if (dropped > 0) {
      this.start = index;
      this.version++;
    }
    return dropped;
  }

  /** Keeps only the newest `count` points. */
  keepLast(count: number): number {
    const dropped = Math.max(0, this.length - count);
    if (dropped > 0) {
      this.start += dropped;
      this.version++;
    }
    return dropped;
  }

  /** First index whose time is ≥ `time`. */
  private lowerBound(time: number): number {
    let low = this.start;
    let high = this.end;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.timeData[middle]! < time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** First index whose time is > `time`: equal times keep their arrival order. */
  private upperBound(time: number): number {
    let low = this.start;
    let high = this.end;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.timeData[middle]! <= time) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Room for `count` points from `start`; moves the data to the front first when that frees enough. */
  private reserve(count: number): void {
    if (this.start + count <= this.timeData.length) return;
    const length = this.length;
    if (count <= this.timeData.length && this.start > this.timeData.length / 2) {
      this.timeData.copyWithin(0, this.start, this.end);
      this.valueData.copyWithin(0, this.start, this.end);
    } else {
      const capacity = Math.max(count, this.timeData.length * 2);
      const times = new Float64Array(capacity);
      const values = new Float64Array(capacity);
      times.set(this.timeData.subarray(this.start, this.end));
      values.set(this.valueData.subarray(this.start, this.end));
      this.timeData = times;
      this.valueData = values;
    }
    this.start = 0;
    this.end = length;
  }

  private sortInPlace(): void {
    const order = Array.from({ length: this.length }, (_, i) => this.start + i);
    order.sort((a, b) => this.timeData[a]! - this.timeData[b]! || a - b);
    const times = Float64Array.from(order, (i) => this.timeData[i]!);
    const values = Float64Array.from(order, (i) => this.valueData[i]!);
    this.timeData.set(times, this.start);
    this.valueData.set(values, this.start);
  }
}
