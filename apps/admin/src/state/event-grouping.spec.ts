import { describe, expect, it } from 'vitest';
import type { EventItem } from '../components/event-item.js';
import { groupEvents, inGroup } from './event-grouping.js';

const T0 = Date.parse('2026-05-01T10:00:00Z');
let key = 0;
const event = (deviceId: string, type: string, at: number, detail: Record<string, unknown> = {}): EventItem => ({
  key: key++,
  deviceId,
  type,
  at: T0 + at,
  detail: { transport: 'mqtt', ...detail },
});
/** Short sessions of one device, newest first. */
const sessions = (deviceId: string, ...starts: number[]) =>
  starts
    .flatMap((start) => [event(deviceId, 'connected', start), event(deviceId, 'disconnected', start + 40)])
    .reverse();

describe('groupEvents', () => {
  it('groups each device’s burst, keeping devices apart and the feed in time order', () => {
    const a = sessions('a', 0, 1000, 2000);
    const b = sessions('b', 500, 1500);
    const feed = [...a, ...b, event('c', 'message_rejected', 1200)].sort((x, y) => y.at - x.at);
    const grouped = groupEvents(feed);
    expect(grouped.map((entry) => [entry.deviceId, entry.type, entry.detail.count])).toEqual([
      ['a', 'short_sessions', 3],
      ['b', 'short_sessions', 2],
      ['c', 'message_rejected', undefined],
    ]);
  });

  it('adds live sessions to the group the API sent, and knows which live events it already counts', () => {
    const [fromApi] = groupEvents(sessions('a', 0, 1000));
    const live = sessions('a', 2000);
    expect(groupEvents([...live, fromApi!])[0]!.detail.count).toBe(3);
    expect(inGroup(event('a', 'disconnected', 1040), [fromApi!])).toBe(true);
    expect(inGroup(live[0]!, [fromApi!])).toBe(false);
    expect(inGroup(event('b', 'disconnected', 1040), [fromApi!])).toBe(false);
  });
});
