import { describe, expect, it } from 'vitest';
import { BatchedLoader } from './batched-loader.js';

describe('BatchedLoader', () => {
  it('answers keys requested together with one lookup, and repeated keys once', async () => {
    const calls: string[][] = [];
    const loader = new BatchedLoader<string, number>(async (keys) => {
      calls.push(keys);
      return new Map(keys.filter((key) => key !== 'missing').map((key) => [key, key.length]));
    });
    const results = await Promise.all(['a', 'bb', 'a', 'missing', 'ccc'].map((key) => loader.load(key)));
    expect(results).toEqual([1, 2, 1, undefined, 3]);
    expect(calls).toEqual([['a', 'bb', 'missing', 'ccc']]);
  });

  it('splits large bursts into bounded batches', async () => {
    const sizes: number[] = [];
    const loader = new BatchedLoader<number, number>(async (keys) => {
      sizes.push(keys.length);
      return new Map(keys.map((key) => [key, key * 2]));
    }, 100);
    const results = await Promise.all(Array.from({ length: 250 }, (_, index) => loader.load(index)));
    expect(results[249]).toBe(498);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('rejects every waiter of a failed batch and recovers for the next one', async () => {
    let fail = true;
    const loader = new BatchedLoader<string, string>(async (keys) => {
      if (fail) throw new Error('database down');
      return new Map(keys.map((key) => [key, key]));
    });
    await expect(Promise.all([loader.load('x'), loader.load('y')])).rejects.toThrow('database down');
    fail = false;
    await expect(loader.load('x')).resolves.toBe('x');
  });
});
