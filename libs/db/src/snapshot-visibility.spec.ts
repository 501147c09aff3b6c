import { describe, expect, it } from 'vitest';
import { committedBefore, parseSnapshot } from './snapshot-visibility.js';

describe('snapshot visibility', () => {
  it('parses pg_current_snapshot() text', () => {
    expect(parseSnapshot('100:105:101,103')).toEqual({ xmin: 100n, xmax: 105n, inProgress: new Set([101n, 103n]) });
    expect(parseSnapshot('7:7:')).toEqual({ xmin: 7n, xmax: 7n, inProgress: new Set() });
    expect(() => parseSnapshot('garbage')).toThrow('not a pg_snapshot');
  });

  it('sees transactions below xmin and finished ones below xmax, not running or later ones', () => {
    const snapshot = parseSnapshot('100:105:101,103');
    expect(committedBefore(99n, snapshot)).toBe(true);
    expect(committedBefore(100n, snapshot)).toBe(true);
    expect(committedBefore(101n, snapshot)).toBe(false);
    expect(committedBefore(102n, snapshot)).toBe(true);
    expect(committedBefore(103n, snapshot)).toBe(false);
    expect(committedBefore(105n, snapshot)).toBe(false);
    expect(committedBefore(200n, snapshot)).toBe(false);
  });
});
