import { describe, expect, it } from 'vitest';
import { groupShortSessions, SHORT_SESSIONS, type TimedDeviceEvent } from './device-event-grouping.js';

interface Event extends TimedDeviceEvent {
  id: number;
}

const T0 = Date.parse('2026-05-01T10:00:00Z');
let nextId = 1;

const connected = (at: number, transport = 'mqtt'): Event => ({
  id: nextId++,
  type: 'connected',
  time: T0 + at,
  detail: { transport, node: 'hub-1' },
});
const disconnected = (at: number, reason = 'client_disconnect', transport = 'mqtt'): Event => ({
  id: nextId++,
  type: 'disconnected',
  time: T0 + at,
  detail: { transport, reason },
});
const other = (at: number, type = 'message_rejected'): Event => ({ id: nextId++, type, time: T0 + at, detail: {} });

/** Sessions [connect ms, disconnect ms] as events, newest first (as the API lists them). */
function sessions(...spans: [number, number][]): Event[] {
  return spans.flatMap(([from, to]) => [connected(from), disconnected(to)]).reverse();
}

const options = {
  shortSessionMs: 1000,
  group: (parts: Event[], detail: object): Event => ({
    id: parts.at(-1)!.id,
    type: SHORT_SESSIONS,
    time: parts[0]!.time,
    detail: { ...detail },
  }),
};

const types = (events: Event[]) => events.map((event) => event.type);

describe('groupShortSessions', () => {
  it('groups a burst of short sessions into one entry that counts them', () => {
    const events = sessions([0, 50], [1000, 1040], [2000, 2100]);
    const grouped = groupShortSessions(events, options);
    expect(types(grouped)).toEqual([SHORT_SESSIONS]);
    expect(grouped[0]!.detail).toEqual({
      count: 3,
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 2100).toISOString(),
      transports: ['mqtt'],
      reasons: { client_disconnect: 3 },
      shortSessionMs: 1000,
    });
    // The entry's id is its oldest event's: a page ending with it continues after the whole burst.
    expect(grouped[0]!.id).toBe(events.at(-1)!.id);
    expect(grouped[0]!.time).toBe(T0 + 2100);
  });

  it('keeps a single short session, a long session and an open session as they are', () => {
    const single = sessions([0, 50]);
    expect(groupShortSessions(single, options)).toEqual(single);
    const long = sessions([0, 5000], [6000, 12000]);
    expect(groupShortSessions(long, options)).toEqual(long);
    const open = [connected(3000), ...sessions([0, 50])];
    expect(groupShortSessions(open, options)).toEqual(open);
  });

  it('breaks a run at any other event, keeping the order', () => {
    const events = [
      ...sessions([5000, 5010], [6000, 6010]),
      other(4000, 'inactive'),
      ...sessions([0, 10], [1000, 1010], [2000, 2010]),
    ];
    const grouped = groupShortSessions(events, options);
    expect(types(grouped)).toEqual([SHORT_SESSIONS, 'inactive', SHORT_SESSIONS]);
    expect(grouped.map((event) => event.detail.count)).toEqual([2, undefined, 3]);
  });

  it('breaks a run at a long session between short ones', () => {
    const events = sessions([0, 10], [100, 110], [200, 9000], [9100, 9110], [9200, 9210]);
    expect(types(groupShortSessions(events, options))).toEqual([
      SHORT_SESSIONS,
      'disconnected',
      'connected',
      SHORT_SESSIONS,
    ]);
  });

  it('counts reasons and transports across the run; a transport change is not a session', () => {
    const events = [
      disconnected(2050, 'keepalive_timeout', 'ws'),
      connected(2000, 'ws'),
      disconnected(1050, 'client_disconnect', 'mqtt'),
      connected(1000, 'mqtt'),
      disconnected(50, 'client_disconnect', 'mqtt'),
      connected(0, 'ws'),
    ];
    const grouped = groupShortSessions(events, options);
    expect(types(grouped)).toEqual([SHORT_SESSIONS, 'disconnected', 'connected']);
    expect(grouped[0]!.detail).toMatchObject({
      count: 2,
      transports: ['mqtt', 'ws'],
      reasons: { keepalive_timeout: 1, client_disconnect: 1 },
    });
  });

  it('merges sessions next to an entry grouped earlier (live events on top of a page from the API)', () => {
    const page = groupShortSessions(sessions([0, 10], [100, 110], [200, 210]), options);
    const live = sessions([300, 310]);
    const merged = groupShortSessions([...live, ...page], options);
    expect(types(merged)).toEqual([SHORT_SESSIONS]);
    expect(merged[0]!.detail).toMatchObject({
      count: 4,
      from: new Date(T0).toISOString(),
      to: new Date(T0 + 310).toISOString(),
    });
    // Grouping again changes nothing.
    expect(groupShortSessions(merged, options)).toEqual(merged);
  });

  it('returns the events unchanged with shortSessionMs 0', () => {
    const events = sessions([0, 10], [100, 110]);
    expect(groupShortSessions(events, { ...options, shortSessionMs: 0 })).toEqual(events);
  });
});
