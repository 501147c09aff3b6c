import { href } from '../state/router.js';
import type { EventItem } from './event-item.js';
import { describeEvent, eventTitle } from './event-text.js';
import { RelativeTime } from './relative-time.js';

export type { EventItem };

export function EventList({
  events,
  names,
  empty,
}: {
  events: readonly EventItem[];
  /** Device names by id; given, each row names its device with a link. */
  names?: ReadonlyMap<string, string>;
  empty: string;
}) {
  if (events.length === 0) return <p class="empty-note">{empty}</p>;
  return (
    <ol class="event-list">
      {events.map((event) => {
        const [title, tone] = eventTitle(event.type, event.detail);
        const description = describeEvent(event.type, event.detail);
        return (
          <li key={event.key} class="event" data-event-type={event.type}>
            <span class={`event-marker tone-${tone}`} aria-hidden="true" />
            <div class="event-body">
              <div class="event-title">
                <span>{title}</span>
                {names && event.deviceId ? (
                  <a class="event-device" href={href({ page: 'device', id: event.deviceId })}>
                    {names.get(event.deviceId) ?? `${event.deviceId.slice(0, 8)}…`}
                  </a>
                ) : null}
              </div>
              {description ? <div class="event-detail">{description}</div> : null}
            </div>
            <span class="event-time">
              <RelativeTime time={event.at} />
            </span>
          </li>
        );
      })}
    </ol>
  );
}
