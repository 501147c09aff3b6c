import { doublePrecision, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per (time, device, metric) sample: a narrow table, so a device may send any set of metrics
 * without schema changes and TimescaleDB compresses each column well.
 *
 * Keys and indexes, and why:
 * - No primary key and no foreign key. A unique key would make ingest pay for uniqueness checks and would
 *   silently drop two samples that share a millisecond; a foreign key would cost a lookup per row and would
 *   forbid keeping telemetry of a deleted device (which is the default).
 * - One b-tree on (device_id, metric, time DESC): the only read path is "one device, one metric, a time
 *   range, newest first", which it answers with a single index range scan. It is also the only index ingest
 *   maintains, which keeps inserts cheap. On TimescaleDB it is created per chunk, so it stays small and hot.
 */
export const telemetry = pgTable(
  'telemetry',
  {
    time: timestamp('time', { withTimezone: true }).notNull(),
    deviceId: uuid('device_id').notNull(),
    metric: text('metric').notNull(),
    value: doublePrecision('value').notNull(),
  },
  (table) => [
    index('telemetry_device_metric_time_idx').on(table.deviceId, table.metric, table.time.desc().nullsFirst()),
  ],
);

export type TelemetryRow = typeof telemetry.$inferSelect;
