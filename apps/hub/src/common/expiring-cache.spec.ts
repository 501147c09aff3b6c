import { describe, expect, it } from 'vitest';
import { ExpiringCache } from './expiring-cache.js';

describe('ExpiringCache', () => {
  it('forgets an entry after its time-to-live', () => {
    const cache = new ExpiringCache<string, number>(10, 1_000);
    cache.set('a', 1, 0);
    expect(cache.get('a', 999)).toBe(1);
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never holds more than its bound: the oldest entries go first', () => {
    const cache = new ExpiringCache<number, number>(100, 60_000);
    for (let key = 0; key < 10_000; key += 1) cache.set(key, key, key);
    expect(cache.size).toBe(100);
    expect(cache.get(9_899, 10_000)).toBeUndefined();
    expect(cache.get(9_900, 10_000)).toBe(9_900);
    expect(cache.get(9_999, 10_000)).toBe(9_999);
  });

  it('drops expired entries as new ones arrive, without waiting for the bound', () => {
    const cache = new ExpiringCache<number, number>(1_000, 100);
    for (let key = 0; key < 500; key += 1) cache.set(key, key, key * 10);
    // At 4,990 ms only the entries set after 4,890 ms are alive.
    expect(cache.size).toBe(10);
  });

  it('setting a key again renews it and moves it to the back', () => {
    const cache = new ExpiringCache<string, number>(2, 1_000);
    cache.set('a', 1, 0);
    cache.set('b', 2, 1);
    cache.set('a', 3, 2);
    cache.set('c', 4, 3);
    expect(cache.get('b', 4)).toBeUndefined();
    expect(cache.get('a', 4)).toBe(3);
    expect(cache.get('c', 4)).toBe(4);
  });

  it('holds nothing with a bound of 0', () => {
    const cache = new ExpiringCache<string, number>(0, 1_000);
    cache.set('a', 1, 0);
    expect(cache.size).toBe(0);
  });
});
