import { describe, expect, it } from 'vitest';
import { OutboundInflight } from './outbound-inflight.js';

describe('OutboundInflight', () => {
  it('assigns increasing ids and returns the tag on release', () => {
    const inflight = new OutboundInflight();
    expect(inflight.allocate('a')).toBe(1);
    expect(inflight.allocate('b')).toBe(2);
    expect(inflight.release(1)).toEqual({ found: true, tag: 'a' });
    expect(inflight.release(1)).toEqual({ found: false, tag: undefined });
    expect(inflight.size).toBe(1);
  });

  it('wraps after 65535 and skips ids still in flight', () => {
    const inflight = new OutboundInflight();
    for (let id = 1; id <= 0xffff; id++) inflight.allocate(id);
    expect(inflight.allocate('full')).toBeUndefined();
    inflight.release(3);
    inflight.release(65535);
    expect(inflight.allocate('x')).toBe(3);
    expect(inflight.allocate('y')).toBe(65535);
    expect(inflight.allocate('z')).toBeUndefined();
  });
});
