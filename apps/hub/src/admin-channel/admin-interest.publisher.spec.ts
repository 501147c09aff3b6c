import { describe, expect, it } from 'vitest';
import { watchedBy } from './admin-interest.publisher.js';
import { LiveSubscription } from './live-subscription.js';

const D1 = '0190b3a4-0000-7000-8000-000000000001';
const D2 = '0190b3a4-0000-7000-8000-000000000002';

const subscription = (devices: string[] | undefined, metrics: string[] | undefined, events: boolean) =>
  new LiveSubscription({
    id: 's',
    devices: devices && new Set(devices),
    metrics: metrics && new Set(metrics),
    events,
    intervalMs: 100,
    maxPendingPoints: 10,
  });

describe('watchedBy', () => {
  it('one row per device, points and events each wanted by any subscription, every device as null', () => {
    expect(
      watchedBy([
        subscription([D2, D1], ['t'], false),
        subscription([D1], [], true),
        subscription(undefined, [], true),
      ]),
    ).toEqual([
      { deviceId: null, points: false, events: true },
      { deviceId: D1, points: true, events: true },
      { deviceId: D2, points: true, events: false },
    ]);
    expect(watchedBy([])).toEqual([]);
  });
});
