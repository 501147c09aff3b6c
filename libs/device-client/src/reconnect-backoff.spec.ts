import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './reconnect-backoff.js';

const policy = { initialDelayMs: 200, maxDelayMs: 10_000 };

describe('reconnectDelay', () => {
  it('doubles the step per attempt, the wait lying in the upper half of the step', () => {
    expect([1, 2, 3, 4].map((attempt) => reconnectDelay(attempt, policy, () => 0))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4].map((attempt) => reconnectDelay(attempt, policy, () => 1))).toEqual([200, 400, 800, 1600]);
  });

  it('never waits longer than maxDelayMs, even after very many attempts', () => {
    expect(reconnectDelay(7, policy, () => 1)).toBe(10_000);
    expect(reconnectDelay(100_000, policy, () => 1)).toBe(10_000);
    expect(reconnectDelay(100_000, policy, () => 0)).toBe(5_000);
  });

  it('spreads a fleet out', () => {
    const waits = new Set(Array.from({ length: 50 }, () => reconnectDelay(5, policy)));
    expect(waits.size).toBeGreaterThan(10);
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(1600);
  });
});
