import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const options = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.3 };

describe('backoffDelay', () => {
  it('doubles from the first wait up to the cap', () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('takes at most the jitter fraction off', () => {
    expect(backoffDelay(2, options, () => 1)).toBe(1400);
    expect(backoffDelay(2, options, () => 0.5)).toBe(1700);
  });

  it('stays finite for huge attempt counts', () => {
    expect(backoffDelay(10_000, options, () => 0)).toBe(10_000);
  });
});
