import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICES, expectProblem, UUID } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** Migrations shipped in the repository, counted here as SQL files rather than the way the hub counts them. */
const SHIPPED_MIGRATIONS = readdirSync(new URL('../../../migrations/', import.meta.url)).filter((file) =>
  /^\d{4}_\w+\.sql$/.test(file),
).length;

describe('operations: health, readiness, request ids', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('answers /healthz with 200 {status: ok}', async () => {
    const response = await hub.api('GET', '/healthz', { auth: false });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200, the database mode and every shipped migration applied', async () => {
    const response = await hub.api('GET', '/readyz', { auth: false });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ready',
      database: 'up',
      mode: 'postgresql',
      migrations: { applied: SHIPPED_MIGRATIONS, expected: SHIPPED_MIGRATIONS },
    });
    expect(SHIPPED_MIGRATIONS).toBeGreaterThan(0);
  });

  it('answers /readyz with 503 migrations_pending while a migration is missing', async () => {
    const sql = hub.database.client.sql;
    const [removed] = await sql<{ id: number; hash: string; created_at: string }[]>`
      DELETE FROM drizzle.__drizzle_migrations
      WHERE id = (SELECT max(id) FROM drizzle.__drizzle_migrations)
      RETURNING id, hash, created_at::text`;
    try {
      const response = await hub.api('GET', '/readyz', { auth: false });
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({
        status: 'migrations_pending',
        migrations: { applied: SHIPPED_MIGRATIONS - 1, expected: SHIPPED_MIGRATIONS },
      });
    } finally {
      await sql`INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at)
        VALUES (${removed!.id}, ${removed!.hash}, ${removed!.created_at}::bigint)`;
    }
    expect((await hub.api('GET', '/readyz', { auth: false })).status).toBe(200);
  });

  describe('X-Request-Id', () => {
    it.each([
      ['/healthz', 200],
      [DEVICES, 200],
      [`${DEVICES}/not-a-uuid`, 400],
    ])('echoes the id a client sends on %s (%i)', async (path, status) => {
      const response = await hub.api('GET', path, { headers: { 'X-Request-Id': 'client-req.42_a' } });
      expect(response.status).toBe(status);
      expect(response.headers.get('x-request-id')).toBe('client-req.42_a');
    });

    it('echoes it on a 401 answer too', async () => {
      const response = await hub.api('GET', DEVICES, { auth: false, headers: { 'X-Request-Id': 'unauthorised-1' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('x-request-id')).toBe('unauthorised-1');
    });

    it('makes up a different UUID for each request that sends none', async () => {
      const first = await hub.api('GET', '/healthz', { auth: false });
      const second = await hub.api('GET', DEVICES);
      expect(first.headers.get('x-request-id')).toMatch(UUID);
      expect(second.headers.get('x-request-id')).toMatch(UUID);
      expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
    });

    it.each([
      ['with spaces', 'two words'],
      ['with percent signs and a colon', 'abc%0d%0aSet-Cookie:x'],
      ['longer than 128 characters', 'r'.repeat(129)],
    ])('replaces an id %s with a UUID of its own', async (_title, id) => {
      const response = await hub.api('GET', '/healthz', { headers: { 'X-Request-Id': id } });
      expect(response.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  it('answers unknown routes with 404 route_not_found Problem Details', async () => {
    const response = await hub.api('GET', '/api/v1/no-such-thing');
    expectProblem(response, 404, 'route_not_found');
  });

  it('does not announce the framework', async () => {
    const response = await hub.api('GET', '/healthz', { auth: false });
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
