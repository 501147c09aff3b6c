import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { DatabaseClient } from './client.js';
import { findMigrationsFolder } from './migrations-folder.js';

// Any constant works; it only has to be the same in every hub process, so that several instances
// starting together against one database apply the migrations once, one after the other.
const MIGRATION_LOCK_KEY = 7_246_811_300;

export interface MigrationResult {
  applied: number;
  total: number;
}

/** Applies pending migrations in one transaction. Running it again is a no-op. */
export async function runMigrations(
  client: DatabaseClient,
  migrationsFolder = findMigrationsFolder(),
): Promise<MigrationResult> {
  const total = readMigrationFiles({ migrationsFolder }).length;
  // A session-level advisory lock on a reserved connection, held while drizzle migrates on another one.
  const lockConnection = await client.sql.reserve();
  try {
    await lockConnection`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const before = await countApplied(client);
    await migrate(client.db, { migrationsFolder });
    const after = await countApplied(client);
    return { applied: after - before, total };
  } finally {
    await lockConnection`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
    lockConnection.release();
  }
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
