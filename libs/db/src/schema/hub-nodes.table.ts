import { doublePrecision, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The hub processes sharing this database, one row per running process: its lease. A process renews its row every
 * TELEHUB_NODE_LEASE_RENEW_MS; a row whose lease has lapsed belongs to a process that is gone (killed, cut off),
 * and another process removes it together with that process's presence (devices offline, reason `node_lost`).
 * Times are the database's clock, so processes on several machines need not agree on theirs.
 */
export const hubNodes = pgTable('hub_nodes', {
  /** Random per process start: two processes never share one, whatever TELEHUB_NODE_ID says. */
  instanceId: uuid('instance_id').primaryKey(),
  /** TELEHUB_NODE_ID (default: the host name), for people: several instances may carry one name. */
  name: text('name').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  renewedAt: timestamp('renewed_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  /** What this process committed per second over the last minute, as it last said: summed for the fleet's rates. */
  messagesPerSecond: doublePrecision('messages_per_second').notNull().default(0),
  rowsPerSecond: doublePrecision('rows_per_second').notNull().default(0),
});

export type HubNodeRow = typeof hubNodes.$inferSelect;
