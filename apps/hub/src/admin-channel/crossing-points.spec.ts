import { describe, expect, it } from 'vitest';
import { CrossingPoints } from './crossing-points.js';

const D1 = '0190b3a4-0000-7000-8000-000000000001';
const D2 = '0190b3a4-0000-7000-8000-000000000002';

describe('CrossingPoints', () => {
  it('sends every point of a tick below the limit, grouped by committing transaction', () => {
    const points = new CrossingPoints();
    points.add(D1, 't', 1, 10, '100');
    points.add(D1, 't', 2, 11, '100');
    points.add(D2, 'h', 1, 50, '101');
    points.add(D1, 't', 3, 12, undefined);
    const tick = points.take(10, 7000);
    expect(tick).toMatchObject({ sent: 4, thinned: 0, discarded: 0 });
    expect(tick.messages).toEqual([
      { kind: 'admin_points', xid: '100', series: [{ deviceId: D1, metric: 't', times: [1, 2], values: [10, 11] }] },
      { kind: 'admin_points', xid: '101', series: [{ deviceId: D2, metric: 'h', times: [1], values: [50] }] },
      { kind: 'admin_points', series: [{ deviceId: D1, metric: 't', times: [3], values: [12] }] },
    ]);
    expect(points.size).toBe(0);
    expect(points.take(10, 7000).messages).toEqual([]);
  });

  it('above the limit keeps the newest point of each series (by time) and counts the rest as dropped', () => {
    const points = new CrossingPoints();
    for (const time of [5, 9, 7]) points.add(D1, 't', time, time * 10, '100');
    points.add(D2, 't', 1, 1, '100');
    const tick = points.take(3, 7000);
    expect(tick).toMatchObject({ sent: 2, thinned: 2, discarded: 0 });
    expect(tick.messages[0]!.series).toEqual([
      { deviceId: D1, metric: 't', times: [9], values: [90], dropped: 2 },
      { deviceId: D2, metric: 't', times: [1], values: [1] },
    ]);
  });

  it('leaves out whole series beyond the limit when even their newest points are too many', () => {
    const points = new CrossingPoints();
    for (let metric = 0; metric < 5; metric += 1) points.add(D1, `m${metric}`, 1, metric, '100');
    const tick = points.take(3, 7000);
    expect(tick).toMatchObject({ sent: 3, thinned: 0, discarded: 2 });
    expect(tick.messages[0]!.series).toHaveLength(3);
  });

  it('cuts messages to fit the byte limit, a long series into slices, every point once', () => {
    const points = new CrossingPoints();
    for (let index = 0; index < 2000; index += 1)
      points.add(D1, 'temperature', 1_764_000_000_000 + index, index / 7, '9');
    points.add(D2, 'h', 1, 1, '9');
    const tick = points.take(10_000, 2000);
    expect(tick.messages.length).toBeGreaterThan(10);
    for (const message of tick.messages) expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(2000);
    const values = tick.messages.flatMap((m) => m.series.filter((s) => s.deviceId === D1).flatMap((s) => s.values));
    expect(values).toEqual(Array.from({ length: 2000 }, (_, index) => index / 7));
    expect(tick.messages.every((m) => m.xid === '9')).toBe(true);
  });

  it('thins waiting points to the newest of each series, and the dropped count travels with them', () => {
    const points = new CrossingPoints();
    for (const time of [1, 2, 3]) points.add(D1, 't', time, time, '100');
    expect(points.thin()).toBe(2);
    expect(points.size).toBe(1);
    points.add(D1, 't', 4, 4, '100');
    const tick = points.take(10, 7000);
    expect(tick).toMatchObject({ sent: 2, thinned: 0, discarded: 0 });
    expect(tick.messages[0]!.series).toEqual([
      { deviceId: D1, metric: 't', times: [3, 4], values: [3, 4], dropped: 2 },
    ]);
  });
});
