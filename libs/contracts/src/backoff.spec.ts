import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const options = { initialMs: 100, maxMs: 5000 };

describe('backoffDelay', () => {
  it('doubles the step per attempt, the delay lying in the upper half of the step', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options, () => 1))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds maxMs, even after very many attempts', () => {
    expect(backoffDelay(7, options, () => 1)).toBe(5000);
    expect(backoffDelay(10_000, options, () => 1)).toBe(5000);
    expect(backoffDelay(10_000, options, () => 0)).toBe(2500);
  });

  it('counts attempts from 1: a lower count waits like the first attempt', () => {
    expect(backoffDelay(0, options, () => 1)).toBe(100);
    expect(backoffDelay(-3, options, () => 0)).toBe(50);
  });

  it('spreads delays with jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, options)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(800);
  });
});
