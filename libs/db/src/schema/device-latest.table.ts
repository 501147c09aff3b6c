import { doublePrecision, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The newest value of each metric of each device, so "current values" never scan telemetry. Written by
 * one upsert per ingest batch, coalesced per (device, metric), only ever moving forward in time.
 */
export const deviceLatest = pgTable(
  'device_latest',
  {
    deviceId: uuid('device_id').notNull(),
    metric: text('metric').notNull(),
    time: timestamp('time', { withTimezone: true }).notNull(),
    value: doublePrecision('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.deviceId, table.metric] })],
);

export type DeviceLatestRow = typeof deviceLatest.$inferSelect;
