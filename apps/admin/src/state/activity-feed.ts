import type { AdminDeviceEventMessage, Device } from '@telehub/contracts';
import type { AdminSocket, Subscription } from '../api/admin-socket.js';
import type { ApiClient } from '../api/api-client.js';
import { Store } from './store.js';

/** Events the overview lists, newest first; older ones are in each device's own event log. */
export const ACTIVITY_MAX_EVENTS = 200;
/** At sign-in the feed starts from the event logs of this many most recently seen devices… */
const SEED_DEVICES = 12;
/** …taking this many events from each. */
const SEED_EVENTS_PER_DEVICE = 8;
/** The device list page the seed picks them from. */
const SEED_DEVICE_PAGE = 500;

/** The subscription that asks for every device's events but no telemetry (an empty metrics list). */
export const NO_METRICS: string[] = [];

export interface ActivityEvent extends AdminDeviceEventMessage {
  key: string;
}

const keyOf = (event: Pick<AdminDeviceEventMessage, 'deviceId' | 'eventType' | 'at'>) =>
  `${event.deviceId}|${event.eventType}|${event.at}`;

/** Device events from the whole fleet (connects, disconnects, rejected messages, refused tokens) as they happen. */
export class ActivityFeed {
  readonly events = new Store<ActivityEvent[]>([]);
  private readonly subscription: Subscription;
  private readonly stop: () => void;

  constructor(socket: AdminSocket) {
    this.subscription = socket.subscribe(
      { devices: '*', metrics: NO_METRICS, events: true },
      { onSnapshot: () => undefined },
    );
    this.stop = socket.on('device_event', (message) => this.add([{ ...message, key: keyOf(message) }]));
  }

  /**
   * The hub has no fleet-wide event log API: the feed starts from the logs of the devices seen most recently,
   * so the overview shows what happened lately instead of nothing until the next event. Events already in
   * the feed are not added twice.
   */
  async seed(api: ApiClient, remember: (devices: Device[]) => void): Promise<void> {
    const page = await api.listDevices({ limit: SEED_DEVICE_PAGE });
    remember(page.items);
    const recent = page.items
      .filter((device) => device.lastSeenAt)
      .sort((a, b) => (b.lastSeenAt ?? '').localeCompare(a.lastSeenAt ?? ''))
      .slice(0, SEED_DEVICES);
    const logs = await Promise.all(
      recent.map((device) => api.deviceEvents(device.id, SEED_EVENTS_PER_DEVICE).catch(() => [])),
    );
    this.add(
      logs.flatMap((log, index) =>
        log.map((event) => {
          const message: AdminDeviceEventMessage = {
            type: 'device_event',
            deviceId: recent[index]!.id,
            eventType: event.type,
            detail: event.detail,
            at: Date.parse(event.time),
          };
          return { ...message, key: keyOf(message) };
        }),
      ),
    );
  }

  dispose(): void {
    this.stop();
    this.subscription.close();
  }

  private add(incoming: ActivityEvent[]): void {
    this.events.update((events) => {
      const seen = new Set(events.map((event) => event.key));
      const fresh = incoming.filter((event) => !seen.has(event.key));
      if (fresh.length === 0) return events;
      return [...fresh, ...events].sort((a, b) => b.at - a.at).slice(0, ACTIVITY_MAX_EVENTS);
    });
  }
}
