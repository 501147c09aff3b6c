import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom, seedFromText } from './seeded-random.js';

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const take = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const random = seededRandom(7);
    const buckets = new Array(10).fill(0);
    let outside = 0;
    for (let index = 0; index < 100_000; index += 1) {
      const value = random();
      if (value < 0 || value >= 1) outside += 1;
      else buckets[Math.floor(value * 10)] += 1;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('gaussian', () => {
  it('has mean 0 and standard deviation 1', () => {
    const random = seededRandom(1);
    const samples = Array.from({ length: 50_000 }, () => gaussian(random));
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.02);
    expect(samples.every(Number.isFinite)).toBe(true);
  });
});

describe('seedFromText', () => {
  it('is stable and tells texts apart', () => {
    expect(seedFromText('device-1')).toBe(seedFromText('device-1'));
    expect(seedFromText('device-1')).not.toBe(seedFromText('device-2'));
    expect(Number.isInteger(seedFromText(''))).toBe(true);
  });
});
