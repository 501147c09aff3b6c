import { sql } from 'drizzle-orm';
import { index, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices.table.js';

/**
 * When each device was last heard from (a message over any transport, a connect or a disconnect), one row per
 * device, made with it (a trigger of migration 0012 adds the row for every device inserted, however it is inserted).
 *
 * A table of its own, narrow and indexed, because the device list sorts by it: on the wide devices row an index
 * would make every coalesced last-seen write (each device heard from, every TELEHUB_LAST_SEEN_INTERVAL_MS)
 * a non-HOT update touching all the devices indexes, pg_trgm's GIN indexes included. Here such a write touches
 * two small btrees. Never-seen devices (null) sort as the earliest time, as the list orders them.
 */
export const deviceLastSeen = pgTable(
  'device_last_seen',
  {
    deviceId: uuid('device_id')
      .primaryKey()
      .references(() => devices.id, { onDelete: 'cascade' }),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
  },
  (table) => [
    // Keyset pages sorted by last seen (either direction), the list's `lastSeen` order exactly.
    index('device_last_seen_key_idx').on(sql`coalesce(${table.lastSeenAt}, '-infinity'::timestamptz)`, table.deviceId),
  ],
);
