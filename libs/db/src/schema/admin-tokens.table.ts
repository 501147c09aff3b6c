import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './device-tokens.table.js';

export const ADMIN_TOKEN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type AdminTokenRole = (typeof ADMIN_TOKEN_ROLES)[number];

/** environment: TELEHUB_ADMIN_TOKEN; bootstrap: made on the first start; api, cli: made by an admin. */
export const ADMIN_TOKEN_SOURCES = ['environment', 'bootstrap', 'api', 'cli'] as const;
export type AdminTokenSource = (typeof ADMIN_TOKEN_SOURCES)[number];

export const adminTokens = pgTable(
  'admin_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    tokenHash: bytea('token_hash').notNull(),
    hint: text('hint').notNull(),
    // No default: every token is made with a role chosen on purpose (the migration made older tokens admins).
    role: text('role').$type<AdminTokenRole>().notNull(),
    source: text('source').$type<AdminTokenSource>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('admin_tokens_hash_idx').on(table.tokenHash),
    check('admin_tokens_role_check', sql`${table.role} IN ('viewer','operator','admin')`),
    check('admin_tokens_source_check', sql`${table.source} IN ('environment','bootstrap','api','cli')`),
  ],
);

export type AdminTokenRow = typeof adminTokens.$inferSelect;
