import { describe, expect, it } from 'vitest';
import { SeriesBuffer } from './series-buffer.js';

const list = (buffer: SeriesBuffer) => ({ times: [...buffer.times()], values: [...buffer.values()] });

describe('SeriesBuffer', () => {
  it('appends in order and grows past its first capacity', () => {
    const buffer = new SeriesBuffer(2);
    for (let i = 0; i < 10; i++) buffer.insert(i * 10, i);
    expect(buffer.length).toBe(10);
    expect(list(buffer).times).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(buffer.lastValue()).toBe(9);
  });

  it('puts a late point where it belongs, after equal times', () => {
    const buffer = new SeriesBuffer();
    buffer.reset([10, 20, 30], [1, 2, 3]);
    buffer.insert(20, 2.5);
    buffer.insert(5, 0);
    expect(list(buffer)).toEqual({ times: [5, 10, 20, 20, 30], values: [0, 1, 2, 2.5, 3] });
  });

  it('sorts an unsorted snapshot', () => {
    const buffer = new SeriesBuffer();
    buffer.reset([30, 10, 20], [3, 1, 2]);
    expect(list(buffer)).toEqual({ times: [10, 20, 30], values: [1, 2, 3] });
  });

  it('upserts by exact time', () => {
    const buffer = new SeriesBuffer();
    buffer.reset([10, 20], [1, 2]);
    buffer.upsert(20, 5);
    buffer.upsert(15, 9);
    expect(list(buffer)).toEqual({ times: [10, 15, 20], values: [1, 9, 5] });
  });

  it('slides: trims the front and reuses the space instead of growing forever', () => {
    const buffer = new SeriesBuffer(8);
    for (let i = 0; i < 10_000; i++) {
      buffer.insert(i, i);
      buffer.trimBefore(i - 4);
    }
    expect(list(buffer).times).toEqual([9995, 9996, 9997, 9998, 9999]);
    expect(buffer.times().buffer.byteLength).toBeLessThanOrEqual(16 * 8);
  });

  it('keeps the newest points when capped', () => {
    const buffer = new SeriesBuffer();
    buffer.reset([1, 2, 3, 4], [1, 2, 3, 4]);
    expect(buffer.keepLast(2)).toBe(2);
    expect(list(buffer).times).toEqual([3, 4]);
  });

  it('bumps its version on every change, so charts know when to redraw', () => {
    const buffer = new SeriesBuffer();
    const before = buffer.version;
    buffer.insert(1, 1);
    buffer.trimBefore(0);
    expect(buffer.version).toBe(before + 1);
  });
});
