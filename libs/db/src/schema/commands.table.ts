import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { devices } from './devices.table.js';

/** Every status a command can have; the last four are final: no transition leaves them. */
export const COMMAND_STATUSES = ['queued', 'sent', 'delivered', 'succeeded', 'failed', 'expired', 'cancelled'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** One step of a command's life, in the order it happened (epoch ms). */
export interface CommandTransition {
  status: CommandStatus;
  at: number;
}

/**
 * The durable outbox of control commands: the row is the source of truth for what a device must receive
 * and what became of it. Hub processes are woken by NOTIFY, but deliver from this table.
 */
export const commands = pgTable(
  'commands',
  {
    // UUIDv7: time-ordered, so "creation order" and keyset pagination both follow the id.
    id: uuid('id').primaryKey(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    params: jsonb('params').$type<unknown>().notNull().default(sql`'{}'::jsonb`),
    status: text('status').$type<CommandStatus>().notNull().default('queued'),
    idempotencyKey: text('idempotency_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** How many times the command was written to a device connection (at-least-once: may exceed 1). */
    sendCount: integer('send_count').notNull().default(0),
    result: jsonb('result').$type<unknown>(),
    error: text('error'),
    transitions: jsonb('transitions').$type<CommandTransition[]>().notNull().default(sql`'[]'::jsonb`),
  },
  (table) => [
    check(
      'commands_status_check',
      sql`${table.status} IN ('queued','sent','delivered','succeeded','failed','expired','cancelled')`,
    ),
    uniqueIndex('commands_device_idempotency_key_idx')
      .on(table.deviceId, table.idempotencyKey)
      .where(sql`${table.idempotencyKey} IS NOT NULL`),
    // A device's history, newest first, by keyset on the time-ordered id.
    index('commands_device_id_idx').on(table.deviceId, table.id),
    // What a connecting device must receive.
    index('commands_pending_idx').on(table.deviceId, table.id).where(sql`${table.status} IN ('queued','sent')`),
    // What the expiry sweeper looks at.
    index('commands_open_expires_idx').on(table.expiresAt).where(sql`${table.status} IN ('queued','sent','delivered')`),
  ],
);

export type CommandRow = typeof commands.$inferSelect;
