import { boolean, index, pgTable, uuid } from 'drizzle-orm/pg-core';
import { hubNodes } from './hub-nodes.table.js';

/**
 * What the admin connections of each hub process watch, so the other processes know which live points and events
 * to send it over the cluster bus (and send nothing no one watches). One row per process and device it watches
 * (`device_id` null: every device), rewritten whole by that process when its subscriptions change. A process's
 * rows go with its lease (released at shutdown, or reaped once it lapsed).
 */
export const adminInterest = pgTable(
  'admin_interest',
  {
    instanceId: uuid('instance_id')
      .notNull()
      .references(() => hubNodes.instanceId, { onDelete: 'cascade' }),
    /** null: every device (a `"*"` subscription). No foreign key: an admin may watch an id before it exists. */
    deviceId: uuid('device_id'),
    /** Live points of the device are wanted (a subscription with metrics). */
    points: boolean('points').notNull(),
    /** Presence, state and device events of the device are wanted. */
    events: boolean('events').notNull(),
  },
  (table) => [index('admin_interest_instance_idx').on(table.instanceId)],
);

export type AdminInterestRow = typeof adminInterest.$inferSelect;
