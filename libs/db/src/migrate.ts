import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { DatabaseClient } from './client.js';
import { findMigrationsFolder } from './migrations-folder.js';

// Any constant works; it only has to be the same in every hub process, so that several instances
// starting together against one database apply the migrations once, one after the other.
const MIGRATION_LOCK_KEY = 7_246_811_300;

export interface MigrationResult {
  applied: number;
  total: number;
}

/**
 * Applies pending drizzle-kit migrations, all in one transaction, under an advisory lock. Running it again
 * is a no-op. It keeps drizzle's bookkeeping table (drizzle.__drizzle_migrations, compared by the journal
 * timestamp) so drizzle-kit's tools still agree, but it runs on a single connection: drizzle's own
 * migrator takes a second pool connection, which a lock held across both cannot allow on a one-connection pool.
 */
export async function runMigrations(
  client: DatabaseClient,
  migrationsFolder = findMigrationsFolder(),
): Promise<MigrationResult> {
  const migrations = readMigrationFiles({ migrationsFolder });
  const applied = await client.sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`;
    await tx`SET LOCAL client_min_messages = warning`; // no "already exists, skipping" on every start
    await tx`CREATE SCHEMA IF NOT EXISTS drizzle`;
    await tx`CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`;
    await tx`SET LOCAL client_min_messages = notice`;
    const [last] = await tx<{ created_at: number }[]>`
      SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1`;
    let count = 0;
    for (const migration of migrations) {
      if (last && Number(last.created_at) >= migration.folderMillis) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.unsafe(statement);
      }
      await tx`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${migration.hash}, ${migration.folderMillis})`;
      count += 1;
    }
    return count;
  });
  return { applied, total: migrations.length };
}

/** Number of migrations recorded as applied (0 on an empty database). */
export async function countApplied(client: DatabaseClient): Promise<number> {
  // Two statements: a query naming a missing table fails at parse time, even in an untaken CASE branch.
  const [table] = await client.sql<{ exists: boolean }[]>`
    SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists`;
  if (!table?.exists) return 0;
  const [row] = await client.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM drizzle.__drizzle_migrations`;
  return row?.count ?? 0;
}

export function countMigrationFiles(migrationsFolder = findMigrationsFolder()): number {
  return readMigrationFiles({ migrationsFolder }).length;
}
