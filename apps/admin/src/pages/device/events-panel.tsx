import type { DeviceEvent } from '@telehub/contracts';
import { useEffect, useState } from 'preact/hooks';
import { type EventItem, EventList } from '../../components/event-list.js';
import { ActivityIcon } from '../../components/icons.js';
import { useHub } from '../../state/hub-context.js';
import { useStore } from '../../state/store.js';

/** Events listed on the device page, newest first. */
const EVENTS_SHOWN = 50;

function fromRest(event: DeviceEvent): EventItem {
  return { key: `r${event.id}`, type: event.type, detail: event.detail, at: Date.parse(event.time) };
}

/** The same event seen through REST and live: same type, time and detail. */
function sameEvent(a: EventItem, b: EventItem): boolean {
  return a.type === b.type && a.at === b.at && JSON.stringify(a.detail) === JSON.stringify(b.detail);
}

export function EventsPanel({ deviceId }: { deviceId: string }) {
  const { api, socket } = useHub();
  const connections = useStore(socket.connections);
  const [events, setEvents] = useState<EventItem[]>([]);

  // Again after a reconnect (`connections`): events that happened meanwhile were not sent.
  useEffect(() => {
    let cancelled = false;
    api
      .deviceEvents(deviceId, EVENTS_SHOWN)
      .then((list) => {
        if (cancelled) return;
        const loaded = list.map(fromRest);
        // Live events that arrived while the list loaded stay, once.
        setEvents((live) =>
          [...live.filter((item) => !loaded.some((other) => sameEvent(item, other))), ...loaded]
            .sort((a, b) => b.at - a.at)
            .slice(0, EVENTS_SHOWN),
        );
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [api, deviceId, connections]);

  useEffect(() => {
    let counter = 0;
    return socket.on('device_event', (message) => {
      if (message.deviceId !== deviceId) return;
      const item: EventItem = {
        key: `l${Date.now()}-${counter++}`,
        type: message.eventType,
        detail: message.detail,
        at: message.at,
      };
      setEvents((list) =>
        list.some((other) => sameEvent(other, item)) ? list : [item, ...list].slice(0, EVENTS_SHOWN),
      );
    });
  }, [socket, deviceId]);

  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <ActivityIcon size={16} /> Recent events
          </h2>
          <p class="card-subtitle">Connects, disconnects and refusals, with the reason</p>
        </div>
      </header>
      <div class="card-scroll" data-testid="device-events">
        <EventList events={events} empty="No events yet: they appear when the device connects." />
      </div>
    </section>
  );
}
