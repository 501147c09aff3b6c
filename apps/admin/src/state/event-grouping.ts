import { DEVICE_LIMITS, groupShortSessions, SHORT_SESSIONS } from '@telehub/contracts';
import type { EventItem } from '../components/event-item.js';

interface Timed extends EventItem {
  time: number;
}

/**
 * Bursts of short sessions of one device as one entry, as the hub's events API groups them (the same code and
 * threshold), over events newest first from any number of devices: live events join the entries the API sent.
 */
export function groupEvents(events: readonly EventItem[]): EventItem[] {
  const byDevice = new Map<string, Timed[]>();
  for (const event of events) {
    const device = event.deviceId ?? '';
    const list = byDevice.get(device) ?? [];
    list.push({ ...event, time: event.at });
    byDevice.set(device, list);
  }
  const grouped: Timed[] = [];
  for (const list of byDevice.values()) {
    grouped.push(
      ...groupShortSessions<Timed>(list, {
        shortSessionMs: DEVICE_LIMITS.shortSessionMs,
        group: (parts, detail) => ({
          key: `g-${parts.at(-1)!.key}`,
          deviceId: parts[0]!.deviceId,
          type: SHORT_SESSIONS,
          detail: { ...detail },
          at: parts[0]!.at,
          time: parts[0]!.at,
        }),
      }),
    );
  }
  return grouped.sort((a, b) => b.at - a.at).map(({ time: _time, ...event }) => event);
}

/** Whether a live connect or disconnect is already counted in one of these grouped entries (from the API). */
export function inGroup(event: EventItem, entries: readonly EventItem[]): boolean {
  if (event.type !== 'connected' && event.type !== 'disconnected') return false;
  return entries.some(
    (entry) =>
      entry.type === SHORT_SESSIONS &&
      entry.deviceId === event.deviceId &&
      typeof entry.detail.from === 'string' &&
      typeof entry.detail.to === 'string' &&
      event.at >= Date.parse(entry.detail.from) &&
      event.at <= Date.parse(entry.detail.to),
  );
}
