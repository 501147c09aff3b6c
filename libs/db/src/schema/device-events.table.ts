import { bigserial, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * What happened to a device and why: connects, disconnects with their reason, authentication failures,
 * rejected messages, command transitions. device_id is null for a failure that names no known device.
 */
export const deviceEvents = pgTable(
  'device_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: uuid('device_id'),
    time: timestamp('time', { withTimezone: true }).notNull().defaultNow(),
    type: text('type').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  },
  (table) => [index('device_events_device_time_idx').on(table.deviceId, table.time.desc().nullsFirst())],
);

export type DeviceEventRow = typeof deviceEvents.$inferSelect;
