import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const devices = pgTable(
  'devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    // Free-form tags ("greenhouse", "floor:2"); filtered with `labels @> ARRAY[...]`, served by the GIN index.
    labels: text('labels').array().notNull().default(sql`'{}'::text[]`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    disabled: boolean('disabled').notNull().default(false),
    reportedState: jsonb('reported_state').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    stateUpdatedAt: timestamp('state_updated_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    // Presence: which hub process holds the device's live session, since when, and why the last one ended.
    online: boolean('online').notNull().default(false),
    connectedNode: text('connected_node'),
    connectedAt: timestamp('connected_at', { withTimezone: true }),
    disconnectedAt: timestamp('disconnected_at', { withTimezone: true }),
    disconnectReason: text('disconnect_reason'),
    transport: text('transport'),
  },
  (table) => [
    index('devices_labels_idx').using('gin', table.labels),
    // Serves "name starts with" filters and keyset pagination by (created_at, id).
    index('devices_name_idx').on(table.name.op('text_pattern_ops')),
    index('devices_created_id_idx').on(table.createdAt, table.id),
  ],
);

export type DeviceRow = typeof devices.$inferSelect;
export type NewDeviceRow = typeof devices.$inferInsert;
