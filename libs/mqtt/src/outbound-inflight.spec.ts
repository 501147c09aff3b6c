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

describe('OutboundInflight with ids restored from an earlier connection', () => {
  it('never allocates a restored id, and resends it with its tag', () => {
    const inflight = new OutboundInflight();
    inflight.restore(1, 'old-1');
    inflight.restore(3, 'old-3');
    expect(inflight.allocate('new')).toBe(2);
    expect(inflight.allocate('newer')).toBe(4);
    expect(inflight.size).toBe(2);
    expect(inflight.resend(3, 'old-3')).toBe(true);
    expect(inflight.resend(3, 'old-3')).toBe(false);
    expect(inflight.size).toBe(3);
    expect([...inflight.restored.keys()]).toEqual([1]);
    expect(inflight.unacknowledged()).toEqual([
      { packetId: 1, tag: 'old-1' },
      { packetId: 2, tag: 'new' },
      { packetId: 3, tag: 'old-3' },
      { packetId: 4, tag: 'newer' },
    ]);
  });

  it('releases a restored id that is acknowledged before its resend', () => {
    const inflight = new OutboundInflight();
    inflight.restore(7, 'old');
    expect(inflight.release(7)).toEqual({ found: true, tag: 'old' });
    expect(inflight.unacknowledged()).toEqual([]);
  });
});
