import { describe, expect, it } from 'vitest';
import { LiveSubscription, type LiveSubscriptionOptions } from './live-subscription.js';

function subscription(options: Partial<LiveSubscriptionOptions> = {}): LiveSubscription {
  return new LiveSubscription({
    id: 's1',
    devices: new Set(['d1']),
    metrics: undefined,
    events: true,
    intervalMs: 100,
    maxPendingPoints: 1000,
    ...options,
  });
}

/** A snapshot that saw the transactions named. */
const saw =
  (...xids: string[]) =>
  (xid: string) =>
    xids.includes(xid);

describe('LiveSubscription', () => {
  it('covers the named devices and metrics only ("*" is undefined: all)', () => {
    const sub = subscription({ metrics: new Set(['temp']) });
    expect(sub.coversDevice('d1')).toBe(true);
    expect(sub.coversDevice('d2')).toBe(false);
    expect(sub.coversDevice(null)).toBe(false);
    expect(sub.add('d1', 'hum', 1, 1)).toBe(false);
    expect(sub.add('d1', 'temp', 1, 1)).toBe(true);
    expect(subscription({ devices: undefined }).coversDevice('anything')).toBe(true);
    expect(subscription({ metrics: new Set() }).coversMetric('temp')).toBe(false);
  });

  it('buffers until the snapshot, then passes on only batches the snapshot did not include, in any order', () => {
    const sub = subscription();
    sub.add('d1', 'temp', 200, 2, '11'); // committed after the snapshot's transaction began
    sub.add('d1', 'temp', 100, 1, '10'); // committed before: already in the snapshot
    sub.add('d1', 'hum', 150, 3, '12');
    expect(sub.isLive).toBe(false);
    sub.goLive(saw('10'));
    // Events of batches the snapshot saw may still arrive after going live: they are not live points.
    expect(sub.acceptsBatch('10')).toBe(false);
    expect(sub.acceptsBatch('13')).toBe(true);
    sub.add('d1', 'temp', 50, 4, '13'); // an older time, committed later: live all the same
    expect(sub.take(0)).toEqual({
      series: [
        { deviceId: 'd1', metric: 'temp', times: [200, 50], values: [2, 4] },
        { deviceId: 'd1', metric: 'hum', times: [150], values: [3] },
      ],
      dropped: 0,
    });
    expect(sub.hasPending).toBe(false);
  });

  it('keeps the newest point of each series and counts the rest when told the client is slow', () => {
    const sub = subscription();
    sub.goLive(saw());
    for (const time of [1, 3, 2]) sub.add('d1', 'temp', time, time * 10);
    sub.add('d1', 'hum', 5, 50);
    sub.keepNewestOnly();
    expect(sub.take(0)).toEqual({
      series: [
        { deviceId: 'd1', metric: 'temp', times: [3], values: [30] },
        { deviceId: 'd1', metric: 'hum', times: [5], values: [50] },
      ],
      dropped: 2,
    });
  });

  it('collapses on its own when more than maxPendingPoints wait', () => {
    const sub = subscription({ maxPendingPoints: 3 });
    sub.goLive(saw());
    for (let time = 1; time <= 4; time += 1) sub.add('d1', 'temp', time, time);
    const flush = sub.take(0);
    expect(flush.series[0]).toMatchObject({ times: [4], values: [4] });
    expect(flush.dropped).toBe(3);
  });
});
