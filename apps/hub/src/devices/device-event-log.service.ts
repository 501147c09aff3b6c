import { Injectable } from '@nestjs/common';
import {
  DEVICE_LIMITS,
  type DeviceEvent,
  groupShortSessions,
  type ListDeviceEventsQuery,
  SHORT_SESSIONS,
} from '@telehub/contracts';
import { type DeviceEvent as DeviceEventRecord, DeviceEventRepository } from '@telehub/db';
import { presentEvent } from './device.presenter.js';

/**
 * A device's event log, newest first, with bursts of short sessions grouped into one `short_sessions` entry
 * (a device that connects for each message must not bury everything else). Recorded events are read in chunks
 * until the page's entries are complete: an entry is final once two more follow it, since the run of short
 * sessions before it could only grow by the events right after it. At most DEVICE_LIMITS.eventsScanMax are
 * read per request; a longer burst becomes one entry per page.
 */
@Injectable()
export class DeviceEventLog {
  constructor(private readonly events: DeviceEventRepository) {}

  async page(deviceId: string, query: ListDeviceEventsQuery): Promise<DeviceEvent[]> {
    if (query.shortSessionMs === 0) {
      return (await this.events.recentForDevice(deviceId, query.limit, query.cursor)).map(presentEvent);
    }
    const chunk = Math.min(DEVICE_LIMITS.eventsPageMaxLimit, query.limit * 4 + 20);
    const read: DeviceEventRecord[] = [];
    let before = query.cursor;
    let entries: DeviceEventRecord[];
    for (;;) {
      const rows = await this.events.recentForDevice(deviceId, chunk, before);
      read.push(...rows);
      entries = groupShortSessions(read, {
        shortSessionMs: query.shortSessionMs,
        // Its id is its oldest event's, so a page that ends with it continues after the whole burst.
        group: (parts, detail) => ({
          id: parts.at(-1)!.id,
          deviceId,
          time: parts[0]!.time,
          type: SHORT_SESSIONS,
          detail: { ...detail },
        }),
      });
      if (rows.length < chunk || entries.length >= query.limit + 2 || read.length >= DEVICE_LIMITS.eventsScanMax) break;
      before = rows.at(-1)!.id;
    }
    return entries.slice(0, query.limit).map(presentEvent);
  }
}
