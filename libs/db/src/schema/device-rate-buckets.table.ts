import { boolean, doublePrecision, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices.table.js';

/**
 * Each HTTP-posting device's message budget (TELEHUB_DEVICE_RATE_PER_SEC, TELEHUB_DEVICE_RATE_BURST), shared by every
 * hub process on the database, so a load balancer spreading a device's requests over several hubs does not multiply
 * its rate. A token bucket: `tokens` as of `updated_at` (the database's clock), refilled by the statement that takes
 * one. The table is UNLOGGED (migration): a budget is worth nothing after a crash, and not writing WAL for it keeps
 * the per-request update cheap.
 */
export const deviceRateBuckets = pgTable('device_rate_buckets', {
  deviceId: uuid('device_id')
    .primaryKey()
    .references(() => devices.id, { onDelete: 'cascade' }),
  tokens: doublePrecision('tokens').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  /** Whether the last request took a token: what the statement that took it returns. */
  admitted: boolean('admitted').notNull(),
});
