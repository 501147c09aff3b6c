import type { AdminDeviceEventMessage, Device } from '@telehub/contracts';
import type { AdminSocket, Subscription } from '../api/admin-socket.js';
import type { ApiClient } from '../api/api-client.js';
import type { EventItem } from '../components/event-item.js';
import { groupEvents, inGroup } from './event-grouping.js';
import { Store } from './store.js';

/** Entries the overview lists, newest first; older ones are in each device's own event log. */
export const ACTIVITY_MAX_EVENTS = 200;
/** At sign-in the feed starts from the event logs of this many most recently seen devices… */
const SEED_DEVICES = 12;
/** …taking this many entries from each. */
const SEED_EVENTS_PER_DEVICE = 8;

/** The subscription that asks for every device's events but no telemetry (an empty metrics list). */
export const NO_METRICS: string[] = [];

const keyOf = (event: Pick<EventItem, 'deviceId' | 'type' | 'at'>) => `${event.deviceId}|${event.type}|${event.at}`;

function fromMessage(message: AdminDeviceEventMessage): EventItem {
  const item = { deviceId: message.deviceId, type: message.eventType, detail: message.detail, at: message.at };
  return { ...item, key: keyOf(item) };
}

/**
 * Device events from the whole fleet (connects, disconnects, activity, rejected messages, refused tokens) as they
 * happen. A device that connects for each message would push everything else out: its short sessions are kept
 * as one entry per burst, as the events API groups them.
 */
export class ActivityFeed {
  readonly events = new Store<EventItem[]>([]);
  private readonly subscription: Subscription;
  private readonly stop: () => void;

  constructor(socket: AdminSocket) {
    this.subscription = socket.subscribe(
      { devices: '*', metrics: NO_METRICS, events: true },
      { onSnapshot: () => undefined },
    );
    this.stop = socket.on('device_event', (message) => this.add([fromMessage(message)]));
  }

  /**
   * The hub has no fleet-wide event log API: the feed starts from the logs of the devices seen most recently,
   * so the overview shows what happened lately instead of nothing until the next event. Events already in
   * the feed are not added twice.
   */
  async seed(api: ApiClient, remember: (devices: Device[]) => void): Promise<void> {
    const page = await api.listDevices({ limit: SEED_DEVICES, sort: '-lastSeen' });
    remember(page.items);
    const recent = page.items.filter((device) => device.lastSeenAt);
    const logs = await Promise.all(
      recent.map((device) => api.deviceEvents(device.id, SEED_EVENTS_PER_DEVICE).catch(() => [])),
    );
    const entries = logs.flatMap((log, index) =>
      log.map((event) => {
        const item = {
          deviceId: recent[index]!.id,
          type: event.type,
          detail: event.detail,
          at: Date.parse(event.time),
        };
        return { ...item, key: keyOf(item) };
      }),
    );
    // Live connects and disconnects that an entry from the logs already counts go.
    this.events.update((events) => events.filter((event) => !inGroup(event, entries)));
    this.add(entries);
  }

  dispose(): void {
    this.stop();
    this.subscription.close();
  }

  private add(incoming: EventItem[]): void {
    this.events.update((events) => {
      const seen = new Set(events.map((event) => event.key));
      const fresh = incoming.filter((event) => !seen.has(event.key));
      if (fresh.length === 0) return events;
      return groupEvents([...fresh, ...events].sort((a, b) => b.at - a.at)).slice(0, ACTIVITY_MAX_EVENTS);
    });
  }
}
