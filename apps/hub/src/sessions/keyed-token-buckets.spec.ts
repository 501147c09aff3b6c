import { describe, expect, it } from 'vitest';
import { KeyedTokenBuckets } from './keyed-token-buckets.js';

describe('KeyedTokenBuckets', () => {
  it('gives each key its own burst, then refuses until the rate refills it', () => {
    const buckets = new KeyedTokenBuckets<string>(2, 3, Number.POSITIVE_INFINITY, 0);
    expect([buckets.take('a', 0), buckets.take('a', 0), buckets.take('a', 0)]).toEqual([0, 0, 0]);
    expect(buckets.take('a', 0)).toBeCloseTo(500);
    expect(buckets.waitMs('a', 0)).toBeCloseTo(500);
    expect(buckets.waitMs('b', 0)).toBe(0);
    expect(buckets.take('b', 0)).toBe(0);
    expect(buckets.waitMs('a', 500)).toBe(0);
    expect(buckets.take('a', 500)).toBe(0);
  });

  it('forgets keys whose bucket refilled, and never holds more than maxKeys', () => {
    const buckets = new KeyedTokenBuckets<number>(1, 5, 100, 0);
    for (let key = 0; key < 1_000; key += 1) buckets.take(key, 0);
    expect(buckets.size).toBe(100);
    // The most recent keys are the ones kept.
    expect(buckets.waitMs(999, 0)).toBe(0);
    buckets.take(999, 0);
    buckets.take(999, 0);
    buckets.take(999, 0);
    buckets.take(999, 0);
    expect(buckets.waitMs(999, 0)).toBeGreaterThan(0);
    // After a sweep (every 10 s) the refilled buckets are gone.
    buckets.take(-1, 20_000);
    expect(buckets.size).toBe(1);
  });
});
