import { describe, expect, it } from 'vitest';
import { RateWindow } from './rate-window.js';

const T0 = 1_750_000_000_000; // a whole second

function windowAt(start = T0, seconds = 60) {
  let now = start;
  const window = new RateWindow(seconds, () => now);
  return {
    window,
    at: (ms: number) => {
      now = ms;
    },
  };
}

describe('RateWindow', () => {
  it('reads a steady stream exactly once the window is full', () => {
    const { window } = windowAt();
    for (let second = 0; second < 180; second++) window.add(5, T0 + second * 1000 + 250);
    expect(window.perSecond(T0 + 180_500)).toBe(5);
    expect(window.total(T0 + 180_500)).toBe(300);
  });

  it('counts only complete seconds: the current one shows from the next second on', () => {
    const { window } = windowAt();
    window.add(10, T0 + 3_100);
    expect(window.total(T0 + 3_900)).toBe(0);
    expect(window.total(T0 + 4_000)).toBe(10);
  });

  it('divides by the seconds seen so far while the window is younger than its length', () => {
    const { window } = windowAt();
    window.add(8, T0 + 100);
    window.add(2, T0 + 1_500);
    expect(window.perSecond(T0 + 500)).toBe(0); // no complete second yet
    expect(window.perSecond(T0 + 1_200)).toBe(8); // 8 in 1 s
    expect(window.perSecond(T0 + 4_000)).toBe(2.5); // 10 in 4 s
    expect(window.perSecond(T0 + 60_000)).toBe(10 / 60);
    expect(window.perSecond(T0 + 61_000)).toBe(2 / 60); // second 0 left the window
    expect(window.perSecond(T0 + 62_000)).toBe(0);
  });

  it('forgets seconds that left the window, also after a long idle gap that reuses their slots', () => {
    const { window } = windowAt(T0, 10);
    window.add(100, T0 + 500);
    window.add(7, T0 + 30_500); // same slot as second 0, three laps later
    expect(window.total(T0 + 31_000)).toBe(7);
    expect(window.perSecond(T0 + 31_000)).toBe(0.7);
  });

  it('ignores events older than the window and adds several to one second', () => {
    const { window } = windowAt(T0, 10);
    window.add(1, T0 + 20_000);
    window.add(1, T0 + 20_999);
    window.add(50, T0 + 10_000); // same slot, but older: already out of the window
    window.add(3, T0 + 5_000); // another slot, and older than the window when read at 21 s
    expect(window.total(T0 + 21_000)).toBe(2);
  });

  it('uses the clock it was given when no time is passed', () => {
    const { window, at } = windowAt();
    at(T0 + 2_300);
    window.add(6);
    at(T0 + 3_000);
    expect(window.total()).toBe(6);
    expect(window.perSecond()).toBe(2);
  });

  it('refuses a window that is not a whole number of seconds', () => {
    expect(() => new RateWindow(0)).toThrow(RangeError);
    expect(() => new RateWindow(1.5)).toThrow(/whole number/);
  });
});
