import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A device session's details, as its presence write records them (keys as the API names them). */
export interface SessionRecord {
  mqttProtocolLevel: 4 | 5 | null;
  clientId: string | null;
  keepAliveSeconds: number | null;
  remoteAddress: string | null;
}

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
    // When the device was last heard from is in device_last_seen, a narrow table of its own with the index the
    // list sorts by (migration 0012).
    // Presence: which hub process holds the device's live session, since when, and why the last one ended.
    online: boolean('online').notNull().default(false),
    connectedNode: text('connected_node'),
    connectedAt: timestamp('connected_at', { withTimezone: true }),
    disconnectedAt: timestamp('disconnected_at', { withTimezone: true }),
    disconnectReason: text('disconnect_reason'),
    transport: text('transport'),
    /**
     * What the current (else the last) session told the hub when it connected: protocol level, client id,
     * keep-alive, remote address. Written with the rest of presence; kept when the session ends.
     */
    session: jsonb('session').$type<SessionRecord>(),
    /**
     * The device's live session, as the database decides it across hub processes: the session that wrote itself
     * here last owns the device (takes over the one before, on whichever process), and only it receives commands
     * and may mark the device offline. `connected_instance` is the hub process (hub_nodes) that holds it.
     */
    sessionId: uuid('session_id'),
    connectedInstance: uuid('connected_instance'),
    /**
     * Heard from within its inactivity timeout (a message, a connect, or a live session), as the activity
     * sweeper last found it. Flipped only by the sweeper's conditional UPDATE, which records the transition
     * as an `active`/`inactive` event in the same statement: several hubs never record one transition twice.
     */
    active: boolean('active').notNull().default(false),
    /** This device's inactivity timeout; null: the hub's TELEHUB_DEVICE_INACTIVITY_TIMEOUT_S. */
    inactivityTimeoutSeconds: integer('inactivity_timeout_seconds'),
  },
  // Nothing that presence writes (online, active, …) is indexed: those updates rewrite
  // device rows every few seconds, and stay HOT (no index entries) only while no indexed column changes. The
  // pg_trgm indexes for substring search are made by migration 0007's custom part, where the extension exists.
  (table) => [
    index('devices_labels_idx').using('gin', table.labels),
    // Serves "name starts with" filters.
    index('devices_name_idx').on(table.name.op('text_pattern_ops')),
    // Keyset pagination sorted by name (the database's collation, as ORDER BY name sorts).
    index('devices_name_id_idx').on(table.name, table.id),
    index('devices_created_id_idx').on(table.createdAt, table.id),
    check('devices_inactivity_timeout_check', sql`${table.inactivityTimeoutSeconds} > 0`),
  ],
);

/** A device row with when it was last heard from (device_last_seen), as repositories return devices. */
export type DeviceRow = typeof devices.$inferSelect & { lastSeenAt: Date | null };
export type NewDeviceRow = typeof devices.$inferInsert;
