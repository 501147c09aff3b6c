import { detectDatabaseMode, detectTimescale } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 12, item 7: on plain PostgreSQL, finding out the mode must not fail a statement (every failed statement
// is an ERROR in the server's log, at every start).
describe('database mode on plain PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** Transactions this database has rolled back: a failed statement outside a transaction is one. */
  async function rollbacks(): Promise<number> {
    const [row] = await database.client.sql<{ rollbacks: number }[]>`
      SELECT xact_rollback::int AS rollbacks FROM pg_stat_database WHERE datname = current_database()`;
    return row!.rollbacks;
  }

  async function flushedRollbacks(): Promise<number> {
    // Statistics reach pg_stat_database when each connection flushes them: force it, then read a fresh snapshot.
    await database.client.sql`SELECT pg_stat_force_next_flush()`;
    await database.client.sql`SELECT pg_stat_clear_snapshot()`;
    return rollbacks();
  }

  it('is postgresql, with TimescaleDB absent, without a failed statement', async () => {
    const before = await flushedRollbacks();
    expect(await detectTimescale(database.client)).toBe('absent');
    expect(await detectDatabaseMode(database.client)).toBe('postgresql');
    expect(await flushedRollbacks()).toBe(before);
    // The check itself can see a failure: a statement naming TimescaleDB's catalog fails here.
    await expect(database.client.sql`SELECT count(*) FROM _timescaledb_catalog.hypertable`).rejects.toThrow(
      /does not exist/,
    );
    expect(await flushedRollbacks()).toBe(before + 1);
  });
});
