import { createServer } from 'node:net';
import { countMigrationFiles, ReadinessProbe } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APPLICATION = 'telehub-readiness-spec';

describe('ReadinessProbe on PostgreSQL', () => {
  let database: TestDatabase;
  let probe: ReadinessProbe;
  beforeAll(async () => {
    database = await createTestDatabase();
    probe = new ReadinessProbe(database.url, { timeoutMs: 300, applicationName: APPLICATION });
  });
  afterAll(async () => {
    await probe?.close();
    await database?.drop();
  });

  async function probeConnections(): Promise<number> {
    const [row] = await database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = ${APPLICATION}`;
    return row!.count;
  }

  it('counts the applied migrations on a connection of its own', async () => {
    expect(await probe.check()).toEqual({ ok: true, appliedMigrations: countMigrationFiles() });
    expect(await probeConnections()).toBe(1);
  });

  it('reports a timeout when its statement cannot finish, shares one check among callers, then recovers', async () => {
    const locker = await database.client.sql.reserve();
    try {
      await locker`BEGIN`;
      await locker`LOCK TABLE drizzle.__drizzle_migrations IN ACCESS EXCLUSIVE MODE`;
      const first = probe.check();
      const second = probe.check();
      expect(second).toBe(first);
      expect(await first).toEqual({
        ok: false,
        reason: 'timeout',
        detail: 'the database did not answer within 300 ms',
      });
      // The stuck connection was dropped rather than left for the next check to queue behind.
      const next = await probe.check();
      expect(next).toMatchObject({ ok: false, reason: 'timeout' });
    } finally {
      await locker`ROLLBACK`;
      locker.release();
    }
    expect(await probe.check()).toEqual({ ok: true, appliedMigrations: countMigrationFiles() });
    expect(await probeConnections()).toBe(1);
  });

  it('reports an error when nothing listens at the address', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    await new Promise((resolve) => server.close(resolve));
    const url = new URL(database.url);
    url.port = String(port);
    const unreachable = new ReadinessProbe(url.toString(), { timeoutMs: 2000 });
    try {
      expect(await unreachable.check()).toMatchObject({
        ok: false,
        reason: 'error',
        detail: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await unreachable.close();
    }
  });
});
