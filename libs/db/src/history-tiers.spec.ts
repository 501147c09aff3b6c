import { describe, expect, it } from 'vitest';
import { staleIntervals, tierFor, tierHorizon } from './history-tiers.js';

const M = 60_000;
const H = 60 * M;
const clip = { fromMs: 0, toMs: 100 * H, watermarkMs: 50 * H, rawFromMs: 10 * H, bucketMs: H, maxIntervals: 3 };

describe('staleIntervals', () => {
  it('widens invalidated ranges (inclusive) to whole buckets, merging what touches', () => {
    expect(
      staleIntervals(
        [
          [20 * H + 5, 20 * H + 5],
          [21 * H, 22 * H - 1],
          [30 * H + M, 31 * H],
        ],
        clip,
      ),
    ).toEqual([
      [20 * H, 22 * H],
      [30 * H, 32 * H],
    ]);
  });

  it('keeps to the range, below the watermark and within the raw retention', () => {
    expect(staleIntervals([[Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]], clip)).toEqual([[10 * H, 50 * H]]);
    expect(
      staleIntervals(
        [
          [60 * H, 70 * H],
          [H, 5 * H],
        ],
        clip,
      ),
    ).toEqual([]);
    expect(staleIntervals([[0, 99 * H]], { ...clip, fromMs: 40 * H, rawFromMs: 10 * H + 1 })).toEqual([
      [40 * H, 50 * H],
    ]);
    // A raw horizon inside a bucket: that bucket holds rows already gone, the aggregate answers it.
    expect(staleIntervals([[10 * H, 12 * H]], { ...clip, rawFromMs: 10 * H + 1 })).toEqual([[11 * H, 13 * H]]);
  });

  it('merges the closest when there are too many', () => {
    const ranges = [11, 13, 14, 20, 30].map((hour) => [hour * H, hour * H] as const);
    expect(staleIntervals(ranges, clip)).toEqual([
      [11 * H, 15 * H],
      [20 * H, 21 * H],
      [30 * H, 31 * H],
    ]);
  });
});

describe('tiers', () => {
  it('answers a bucket size from the coarsest tier that has it, and only the raw tier on PostgreSQL', () => {
    expect([30_000, M, 5 * M, H, 24 * H, 90 * M].map((ms) => tierFor('timescaledb', ms))).toEqual([
      'raw',
      '1m',
      '1m',
      '1h',
      '1h',
      '1m',
    ]);
    expect(tierFor('postgresql', H)).toBe('raw');
  });

  it('counts each horizon back from now, forever for 0', () => {
    const retention = { rawDays: 30, minuteDays: 90, hourDays: 0 };
    expect(tierHorizon('raw', retention, 100 * 86_400_000)).toBe(70 * 86_400_000);
    expect(tierHorizon('1m', retention, 100 * 86_400_000)).toBe(10 * 86_400_000);
    expect(tierHorizon('1h', retention, 100 * 86_400_000)).toBe(Number.NEGATIVE_INFINITY);
  });
});
