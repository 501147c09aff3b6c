import { describe, expect, it } from 'vitest';
import { BUCKET_LADDER, chooseBucket, formatBucket, parseBucket, pointsPerSeries } from './bucket-choice.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseBucket', () => {
  it('reads raw and whole numbers of s, m, h, d and w, with canonical labels', () => {
    expect(parseBucket('raw')).toBe('raw');
    expect(parseBucket('30s')).toEqual({ label: '30s', ms: 30 * S });
    expect(parseBucket('5m')).toEqual({ label: '5m', ms: 5 * M });
    expect(parseBucket('1h')).toEqual({ label: '1h', ms: H });
    expect(parseBucket('1d')).toEqual({ label: '1d', ms: D });
    expect(parseBucket('1w')).toEqual({ label: '7d', ms: 7 * D });
    expect(parseBucket('60s')).toEqual({ label: '1m', ms: M });
    expect(parseBucket('90s')).toEqual({ label: '90s', ms: 90 * S });
    expect(parseBucket('120m')).toEqual({ label: '2h', ms: 2 * H });
  });

  it('refuses anything else', () => {
    for (const text of ['', '0s', '5', 'm', '1.5h', '-1h', '1y', '5ms', ' 5m', 'RAW', '05m']) {
      expect(parseBucket(text), text).toBeUndefined();
    }
  });
});

describe('formatBucket', () => {
  it('uses the largest unit that divides the size', () => {
    expect(formatBucket(S)).toBe('1s');
    expect(formatBucket(45 * S)).toBe('45s');
    expect(formatBucket(15 * M)).toBe('15m');
    expect(formatBucket(90 * M)).toBe('90m');
    expect(formatBucket(12 * H)).toBe('12h');
    expect(formatBucket(7 * D)).toBe('7d');
  });
});

describe('chooseBucket', () => {
  it('climbs the round ladder from 1s to 7d', () => {
    expect(BUCKET_LADDER.map((bucket) => bucket.label)).toEqual([
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
    ]);
  });

  it('takes the smallest size giving at most maxPoints points', () => {
    expect(chooseBucket(15 * M, 1000).label).toBe('1s'); // 900 points
    expect(chooseBucket(H, 1000).label).toBe('5s'); // 720; 1s would give 3600
    expect(chooseBucket(24 * H, 1000).label).toBe('5m'); // 288; 1m would give 1440
    expect(chooseBucket(7 * D, 1000).label).toBe('15m'); // 672
    expect(chooseBucket(30 * D, 1000).label).toBe('1h'); // 720
    expect(chooseBucket(365 * D, 1000).label).toBe('12h'); // 730
    expect(chooseBucket(1000 * S, 1000).label).toBe('1s'); // exactly 1000
    expect(chooseBucket(1001 * S, 1000).label).toBe('5s');
  });

  it('respects a smaller maxPoints', () => {
    expect(chooseBucket(H, 100).label).toBe('1m'); // 60; 30s would give 120
  });

  it('goes beyond the ladder in whole weeks rather than exceed maxPoints', () => {
    const bucket = chooseBucket(100 * 365 * D, 1000);
    expect(bucket.ms % (7 * D)).toBe(0);
    expect(pointsPerSeries(100 * 365 * D, bucket.ms)).toBeLessThanOrEqual(1000);
    expect(pointsPerSeries(100 * 365 * D, bucket.ms - 7 * D)).toBeGreaterThan(1000);
  });

  it('never gives more than maxPoints for any range', () => {
    for (let range = S; range < 200 * 365 * D; range = Math.ceil(range * 1.37)) {
      for (const maxPoints of [10, 1000, 10_000]) {
        const points = pointsPerSeries(range, chooseBucket(range, maxPoints).ms);
        expect(points, `${range} ms, at most ${maxPoints}`).toBeLessThanOrEqual(maxPoints);
      }
    }
  });
});
