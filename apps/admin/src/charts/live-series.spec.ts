import { describe, expect, it } from 'vitest';
import { LiveSeries } from './live-series.js';

const list = (series: LiveSeries) => ({ times: [...series.buffer.times()], values: [...series.buffer.values()] });

describe('LiveSeries', () => {
  it('raw: appends live points after the snapshot', () => {
    const series = new LiveSeries();
    series.reset([1000, 2000], [1, 2], 0);
    series.add([3000, 4000], [3, 4]);
    expect(list(series)).toEqual({ times: [1000, 2000, 3000, 4000], values: [1, 2, 3, 4] });
  });

  it('bucketed: averages live points into buckets of the snapshot width', () => {
    const series = new LiveSeries();
    series.reset([0, 10_000], [5, 6], 10_000);
    // 10_000 is the snapshot's last, partial bucket: live points in it get their own point.
    series.add([12_000, 15_000], [10, 20]);
    series.add([20_000, 21_000, 29_999], [1, 2, 3]);
    series.add([30_000], [7]);
    expect(list(series)).toEqual({
      times: [0, 10_000, 12_000, 20_000, 30_000],
      values: [5, 6, 15, 2, 7],
    });
  });

  it('bucketed: a late point for a live bucket updates that bucket', () => {
    const series = new LiveSeries();
    series.reset([], [], 1000);
    series.add([5000, 6000], [1, 1]);
    series.add([5500], [3]);
    expect(list(series)).toEqual({ times: [5000, 6000], values: [2, 1] });
  });

  it('bucketed: backdated points older than the snapshot are shown as they are', () => {
    const series = new LiveSeries();
    series.reset([0, 10_000, 20_000], [1, 2, 3], 10_000);
    series.add([4000], [9]);
    expect(list(series)).toEqual({ times: [0, 4000, 10_000, 20_000], values: [1, 9, 2, 3] });
  });

  it('slides its window and forgets old buckets', () => {
    const series = new LiveSeries();
    series.reset([], [], 1000);
    series.add([1000, 2000, 3000], [1, 2, 3]);
    series.trimBefore(2500);
    series.add([1500], [100]);
    expect(list(series).times).toEqual([1000, 3000]);
    expect(list(series).values).toEqual([100, 3]);
  });

  it('ignores values that are not finite numbers', () => {
    const series = new LiveSeries();
    series.reset([], [], 0);
    series.add([1, Number.NaN, 3], [1, 2, Number.POSITIVE_INFINITY]);
    expect(list(series)).toEqual({ times: [1], values: [1] });
  });
});
