import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices.table.js';

/** A QoS 1 command publish its connection left unacknowledged: resent with this packet id on resume. */
export interface UnacknowledgedCommand {
  packetId: number;
  commandId: string;
}

/**
 * MQTT sessions that outlive their connection (3.1.1 without Clean Session, MQTT 5 with a Session Expiry
 * Interval): one per device, named by the client id that made it. Commands themselves stay in `commands` (a
 * command `sent` and not `delivered` is the one the device has not acknowledged); a session keeps what MQTT adds:
 * its subscriptions and the packet ids its unacknowledged commands went out with.
 * Held by a live connection (`connection_id`), or waiting for the next one until `expires_at`; never both.
 */
export const mqttSessions = pgTable(
  'mqtt_sessions',
  {
    deviceId: uuid('device_id')
      .primaryKey()
      .references(() => devices.id, { onDelete: 'cascade' }),
    clientId: text('client_id').notNull(),
    /** Kept this long after the connection ends (the negotiated value, capped by TELEHUB_MQTT_SESSION_EXPIRY_S). */
    expiryIntervalS: integer('expiry_interval_s').notNull(),
    /** The live connection holding the session; only it may change or end it (a taken-over one may not). */
    connectionId: uuid('connection_id'),
    /**
     * The hub process of that connection (its instance id, as in hub_nodes): once that process is gone (its lease
     * lapsed and was reaped, or it stopped without writing the session's end), the session is released.
     */
    connectedInstance: uuid('connected_instance'),
    disconnectedAt: timestamp('disconnected_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** Topic filter -> granted QoS. At most TELEHUB_MQTT_MAX_SUBSCRIPTIONS entries. */
    subscriptions: jsonb('subscriptions').$type<Record<string, 0 | 1>>().notNull().default(sql`'{}'::jsonb`),
    /** Written when the connection ends. */
    unacknowledged: jsonb('unacknowledged').$type<UnacknowledgedCommand[]>().notNull().default(sql`'[]'::jsonb`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check('mqtt_sessions_expiry_check', sql`${table.expiryIntervalS} > 0`),
    check('mqtt_sessions_held_or_expiring_check', sql`(${table.connectionId} IS NULL) <> (${table.expiresAt} IS NULL)`),
    // What the expiry sweeper deletes.
    index('mqtt_sessions_expires_idx').on(table.expiresAt).where(sql`${table.expiresAt} IS NOT NULL`),
    // Held sessions, looked up by holder when the holder is gone.
    index('mqtt_sessions_instance_idx').on(table.connectedInstance).where(sql`${table.connectionId} IS NOT NULL`),
  ],
);
