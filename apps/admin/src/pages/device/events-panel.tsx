import type { DeviceEvent } from '@telehub/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type EventItem, EventList } from '../../components/event-list.js';
import { ActivityIcon } from '../../components/icons.js';
import { groupEvents, inGroup } from '../../state/event-grouping.js';
import { useHub } from '../../state/hub-context.js';
import { useStore } from '../../state/store.js';

/** Entries listed on the device page, newest first (a burst of short sessions is one). */
const EVENTS_SHOWN = 50;
/** Live events kept beside the API's page: a device connecting every second fills this in a quarter hour. */
const LIVE_KEPT = 2000;

/** The same event seen through REST and live: same type, time and detail. */
function sameEvent(a: EventItem, b: EventItem): boolean {
  return a.type === b.type && a.at === b.at && JSON.stringify(a.detail) === JSON.stringify(b.detail);
}

export function EventsPanel({ deviceId }: { deviceId: string }) {
  const { api, socket } = useHub();
  const connections = useStore(socket.connections);
  const [loaded, setLoaded] = useState<EventItem[]>([]);
  const [live, setLive] = useState<EventItem[]>([]);

  // Again after a reconnect (`connections`): events that happened meanwhile were not sent.
  useEffect(() => {
    let cancelled = false;
    api
      .deviceEvents(deviceId, EVENTS_SHOWN)
      .then((list) => {
        if (cancelled) return;
        const entries = list.map(
          (event: DeviceEvent): EventItem => ({
            key: `r${event.id}`,
            deviceId,
            type: event.type,
            detail: event.detail,
            at: Date.parse(event.time),
          }),
        );
        setLoaded(entries);
        // Live events the page already holds (itself, or counted in one of its groups) go.
        setLive((items) =>
          items.filter((item) => !entries.some((entry) => sameEvent(item, entry)) && !inGroup(item, entries)),
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
        deviceId,
        type: message.eventType,
        detail: message.detail,
        at: message.at,
      };
      setLive((list) => (list.some((other) => sameEvent(other, item)) ? list : [item, ...list].slice(0, LIVE_KEPT)));
    });
  }, [socket, deviceId]);

  const events = useMemo(
    () =>
      groupEvents(
        [...live.filter((item) => !loaded.some((entry) => sameEvent(item, entry))), ...loaded].sort(
          (a, b) => b.at - a.at,
        ),
      ).slice(0, EVENTS_SHOWN),
    [live, loaded],
  );

  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <ActivityIcon size={16} /> Recent events
          </h2>
          <p class="card-subtitle">Connects, disconnects, activity and refusals, with the reason</p>
        </div>
      </header>
      <div class="card-scroll" data-testid="device-events">
        <EventList events={events} empty="No events yet: they appear when the device connects or sends." />
      </div>
    </section>
  );
}
