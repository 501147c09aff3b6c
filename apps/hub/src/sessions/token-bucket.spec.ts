import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('lets a burst through, then paces at the rate', () => {
    const bucket = new TokenBucket(10, 3, 30_000, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBeCloseTo(100);
    expect(bucket.take(0)).toBeCloseTo(200);
    // 1 s later 10 tokens refilled, minus the 2 owed.
    expect(bucket.take(1000)).toBe(0);
  });

  it('tryTake refuses without taking when empty, and says when the next token comes', () => {
    const bucket = new TokenBucket(10, 2, 30_000, 0);
    expect([bucket.tryTake(0), bucket.tryTake(0)]).toEqual([0, 0]);
    expect(bucket.tryTake(0)).toBeCloseTo(100);
    expect(bucket.tryTake(50)).toBeCloseTo(50);
    // Refusals took nothing: the token that arrived at 100 ms is there.
    expect(bucket.tryTake(100)).toBe(0);
    expect(bucket.isFull(100)).toBe(false);
    expect(bucket.isFull(300)).toBe(true);
  });

  it('flags a device that keeps sending at twice the rate for about a window, not a short burst', () => {
    const windowMs = 10_000;
    const burstOnly = new TokenBucket(10, 10, windowMs, 0);
    for (let i = 0; i < 30; i += 1) burstOnly.take(0);
    expect(burstOnly.persistentlyOverLimit()).toBe(false);

    const fast = new TokenBucket(10, 10, windowMs, 0);
    let now = 0;
    let flaggedAt = -1;
    // Twice the allowed rate; the caller honours each wait before sending again.
    for (let i = 0; i < 1000 && flaggedAt < 0; i += 1) {
      now += fast.take(now) + 50;
      if (fast.persistentlyOverLimit()) flaggedAt = now;
    }
    expect(flaggedAt).toBeGreaterThan(windowMs / 2);
    expect(flaggedAt).toBeLessThan(windowMs * 4);
  });

  it('never flags a device within its rate', () => {
    const bucket = new TokenBucket(10, 10, 5_000, 0);
    let now = 0;
    for (let i = 0; i < 2000; i += 1) {
      expect(bucket.take(now)).toBe(0);
      now += 100;
    }
    expect(bucket.persistentlyOverLimit()).toBe(false);
  });
});
