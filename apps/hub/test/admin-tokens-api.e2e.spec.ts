import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './support/admin-client.js';
import { ADMIN_TOKENS, as, createAdminToken } from './support/admin-tokens.js';
import {
  ADMIN_TOKEN,
  ANY_TOKEN,
  DEVICES,
  expectProblem,
  UNKNOWN_ID,
  validationFields,
} from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('admin tokens: REST API', () => {
  let hub: TestHub;
  const clients: AdminClient[] = [];

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(() => hub?.close());

  async function signedIn(token: string, how: 'message' | 'header' = 'message'): Promise<AdminClient> {
    const client =
      how === 'message'
        ? await AdminClient.signedIn(hub.baseUrl, token)
        : await AdminClient.open(hub.baseUrl, { Authorization: `Bearer ${token}` });
    clients.push(client);
    if (how === 'header') await client.next('auth_ok');
    return client;
  }

  it('makes a token with a role and an expiry; the secret is in the answer once, the list shows only its hint', async () => {
    const before = Date.now();
    const created = await hub.api('POST', ADMIN_TOKENS, {
      body: { name: 'wall display', role: 'viewer', expiresInSeconds: 3600 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'wall display',
      hint: `${created.body.token.slice(0, 4)}…${created.body.token.slice(-4)}`,
      role: 'viewer',
      source: 'api',
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: expect.any(String),
      revokedAt: null,
      active: true,
      token: expect.stringMatching(ADMIN_TOKEN),
    });
    const expiresAt = Date.parse(created.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);

    const list = await hub.api('GET', ADMIN_TOKENS);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(created.body.token);
    expect(list.text).not.toMatch(ANY_TOKEN);
    const { token: _secret, ...info } = created.body;
    expect(list.body).toContainEqual(info);
    expect(list.body).toContainEqual(
      expect.objectContaining({ name: 'environment', role: 'admin', source: 'environment' }),
    );
    // Only the hash is stored.
    const rows = await hub.database.client.sql`SELECT * FROM admin_tokens WHERE id = ${created.body.id}`;
    expect(JSON.stringify(rows)).not.toContain(created.body.token);

    // It works, and its use is recorded.
    expect((await hub.api('GET', DEVICES, as(created.body.token))).status).toBe(200);
    const used = (await hub.api('GET', ADMIN_TOKENS)).body.find(
      (token: { id: string }) => token.id === created.body.id,
    );
    expect(used.lastUsedAt).not.toBeNull();
  });

  it('takes the expiry as an RFC 3339 time, or none', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString();
    expect((await createAdminToken(hub, { name: 'until tomorrow', role: 'operator', expiresAt: at })).expiresAt).toBe(
      at,
    );
    expect((await createAdminToken(hub, { name: 'forever', role: 'admin' })).expiresAt).toBeNull();
  });

  it.each([
    [{ role: 'viewer' }, ['name']],
    [{ name: 'x' }, ['role']],
    [{ name: 'x', role: 'root' }, ['role']],
    [{ name: '   ', role: 'viewer' }, ['name']],
    [{ name: 'bell\u0007', role: 'viewer' }, ['name']],
    [{ name: 'x'.repeat(101), role: 'viewer' }, ['name']],
    [{ name: 'x', role: 'viewer', expiresInSeconds: 0 }, ['expiresInSeconds']],
    [{ name: 'x', role: 'viewer', expiresInSeconds: 1.5 }, ['expiresInSeconds']],
    [{ name: 'x', role: 'viewer', expiresAt: '2020-01-01T00:00:00Z' }, ['expiresAt']],
    [{ name: 'x', role: 'viewer', expiresAt: 'next week' }, ['expiresAt']],
    [
      { name: 'x', role: 'viewer', expiresAt: new Date(Date.now() + 60_000).toISOString(), expiresInSeconds: 60 },
      ['expiresAt'],
    ],
    [{ name: 'x', role: 'viewer', scopes: ['all'] }, ['scopes']],
  ])('refuses %j with 400 naming %j', async (body, fields) => {
    const count = (await hub.api('GET', ADMIN_TOKENS)).body.length;
    expect(validationFields(await hub.api('POST', ADMIN_TOKENS, { body }))).toEqual(fields);
    expect((await hub.api('GET', ADMIN_TOKENS)).body).toHaveLength(count);
  });

  it('refuses a second working token with the same name (409), and allows the name again once it is revoked', async () => {
    const first = await createAdminToken(hub, { name: 'ci', role: 'operator' });
    expectProblem(
      await hub.api('POST', ADMIN_TOKENS, { body: { name: 'ci', role: 'viewer' } }),
      409,
      'admin_token_name_taken',
    );
    expect((await hub.api('DELETE', `${ADMIN_TOKENS}/${first.id}`)).status).toBe(200);
    expect((await createAdminToken(hub, { name: 'ci', role: 'viewer' })).name).toBe('ci');
  });

  it('revokes a token: 401 at once, the list shows it revoked, a second revoke is 409', async () => {
    const token = await createAdminToken(hub, { name: 'to revoke', role: 'operator' });
    expect((await hub.api('GET', DEVICES, as(token.token))).status).toBe(200);

    const revoked = await hub.api('DELETE', `${ADMIN_TOKENS}/${token.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: token.id, active: false, revokedAt: expect.any(String) });
    expect(revoked.body.token).toBeUndefined();

    const refused = expectProblem(await hub.api('GET', DEVICES, as(token.token)), 401, 'unauthorized');
    expect(refused.detail).toBe('the admin token was revoked');
    const listed = (await hub.api('GET', ADMIN_TOKENS)).body.find((item: { id: string }) => item.id === token.id);
    expect(listed).toMatchObject({ active: false, revokedAt: revoked.body.revokedAt });
    expectProblem(await hub.api('DELETE', `${ADMIN_TOKENS}/${token.id}`), 409, 'admin_token_already_revoked');
    expectProblem(await hub.api('DELETE', `${ADMIN_TOKENS}/${UNKNOWN_ID}`), 404, 'admin_token_not_found');
    expect(validationFields(await hub.api('DELETE', `${ADMIN_TOKENS}/not-a-uuid`))).toEqual(['tokenId']);
  });

  it('refuses to revoke the token from TELEHUB_ADMIN_TOKEN (409), which keeps working', async () => {
    const environment = (await hub.api('GET', `${ADMIN_TOKENS}/me`)).body;
    expect(environment.source).toBe('environment');
    const problem = expectProblem(
      await hub.api('DELETE', `${ADMIN_TOKENS}/${environment.id}`),
      409,
      'admin_token_from_environment',
    );
    expect(problem.detail).toContain('TELEHUB_ADMIN_TOKEN');
    expect((await hub.api('GET', DEVICES)).status).toBe(200);
  });

  it('refuses an expired token with 401 saying so, and lists it as inactive', async () => {
    const token = await createAdminToken(hub, { name: 'short-lived', role: 'viewer', expiresInSeconds: 3600 });
    await hub.database.client
      .sql`UPDATE admin_tokens SET expires_at = now() - interval '1 second' WHERE id = ${token.id}`;
    const refused = expectProblem(await hub.api('GET', DEVICES, as(token.token)), 401, 'unauthorized');
    expect(refused.detail).toBe('the admin token has expired');
    const listed = (await hub.api('GET', ADMIN_TOKENS)).body.find((item: { id: string }) => item.id === token.id);
    expect(listed).toMatchObject({ active: false, revokedAt: null });
    // The name is free again: only working tokens hold one.
    expect((await createAdminToken(hub, { name: 'short-lived', role: 'viewer' })).name).toBe('short-lived');
  });

  it('closes the admin WebSocket connections of a revoked token with 4403, and only those', async () => {
    const revokedToken = await createAdminToken(hub, { name: 'revoked on the channel', role: 'viewer' });
    const otherToken = await createAdminToken(hub, { name: 'stays on the channel', role: 'viewer' });
    const byMessage = await signedIn(revokedToken.token);
    const byHeader = await signedIn(revokedToken.token, 'header');
    const other = await signedIn(otherToken.token);

    expect((await hub.api('DELETE', `${ADMIN_TOKENS}/${revokedToken.id}`)).status).toBe(200);

    for (const client of [byMessage, byHeader]) {
      const closed = await Promise.race([
        client.closed,
        new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000)),
      ]);
      expect(closed).toEqual({ code: 4403, reason: 'admin token revoked' });
    }
    other.send({ type: 'ping', ref: 'alive' });
    expect((await other.next('pong', { where: (pong) => pong.ref === 'alive' })).type).toBe('pong');
    // Signing in again with it is refused.
    const again = await AdminClient.open(hub.baseUrl);
    again.send({ type: 'auth', token: revokedToken.token });
    expect(await again.closed).toEqual({ code: 4403, reason: 'admin token revoked' });
  });

  it('closes the connection of a token when it expires', async () => {
    const token = await createAdminToken(hub, { name: 'expires on the channel', role: 'viewer', expiresInSeconds: 2 });
    const client = await signedIn(token.token);
    const closed = await Promise.race([
      client.closed,
      new Promise((resolve) => setTimeout(() => resolve('still open after 6 s'), 6000)),
    ]);
    expect(closed).toEqual({ code: 4403, reason: 'admin token expired' });
    const again = await AdminClient.open(hub.baseUrl);
    again.send({ type: 'auth', token: token.token });
    expect(await again.closed).toEqual({ code: 4403, reason: 'admin token expired' });
  });

  it('catches a revocation whose notice was lost when its listening connection comes back', async () => {
    const token = await createAdminToken(hub, { name: 'lost notice', role: 'viewer' });
    const client = await signedIn(token.token);
    const sql = hub.database.client.sql;
    // Revoked behind the hub's back (no NOTIFY), then the hub's LISTEN connection (one for all its channels)
    // is cut: when postgres.js reconnects it, the hub must read the tokens of its open connections again.
    await sql`UPDATE admin_tokens SET revoked_at = now() WHERE id = ${token.id}`;
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query ILIKE 'listen %' AND pid <> pg_backend_pid()`;
    const closed = await Promise.race([
      client.closed,
      new Promise((resolve) => setTimeout(() => resolve('still open after 8 s'), 8000)),
    ]);
    expect(closed).toEqual({ code: 4403, reason: 'admin token revoked' });
  });

  describe('the last admin token', () => {
    let bootstrapped: TestHub;
    let successor: { id: string; token: string };
    beforeAll(async () => {
      bootstrapped = await startTestHub({}, { withoutAdminToken: true });
    });
    afterAll(() => bootstrapped?.close());

    it('cannot be revoked (409) until another admin token works', async () => {
      const initial = (await readFile(`${bootstrapped.dataDir}/admin-token`, 'utf8')).trim();
      const me = (await bootstrapped.api('GET', `${ADMIN_TOKENS}/me`, as(initial))).body;
      expect(me).toMatchObject({ role: 'admin', source: 'bootstrap' });
      // An operator and an expired admin do not count.
      await bootstrapped.api('POST', ADMIN_TOKENS, as(initial, { body: { name: 'op', role: 'operator' } }));
      const stale = (
        await bootstrapped.api('POST', ADMIN_TOKENS, as(initial, { body: { name: 'stale', role: 'admin' } }))
      ).body;
      await bootstrapped.database.client.sql`UPDATE admin_tokens SET expires_at = now() WHERE id = ${stale.id}`;

      const refused = expectProblem(
        await bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${me.id}`, as(initial)),
        409,
        'last_admin_token',
      );
      expect(refused.detail).toContain('Make another admin token first');
      expect((await bootstrapped.api('GET', DEVICES, as(initial))).status).toBe(200);
      // Revoking the expired admin is allowed: it protects nothing.
      expect((await bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${stale.id}`, as(initial))).status).toBe(200);

      successor = (
        await bootstrapped.api('POST', ADMIN_TOKENS, as(initial, { body: { name: 'successor', role: 'admin' } }))
      ).body;
      expect((await bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${me.id}`, as(initial))).status).toBe(200);
      expect((await bootstrapped.api('GET', DEVICES, as(initial))).status).toBe(401);
      expectProblem(
        await bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${successor.id}`, as(successor.token)),
        409,
        'last_admin_token',
      );
    });

    it('holds when two admins revoke each other at the same time: one of them stays', async () => {
      let remaining = successor;
      for (let round = 0; round < 5; round += 1) {
        const other = (
          await bootstrapped.api(
            'POST',
            ADMIN_TOKENS,
            as(remaining.token, { body: { name: `peer ${round}`, role: 'admin' } }),
          )
        ).body;
        const pair = [remaining, other];
        const answers = await Promise.all([
          bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${other.id}`, as(remaining.token)),
          bootstrapped.api('DELETE', `${ADMIN_TOKENS}/${remaining.id}`, as(other.token)),
        ]);
        // The loser is refused as the last admin (409), or, when the winner's revocation came first, its own
        // token no longer works (401). Never both 200.
        const statuses = answers.map((answer) => answer.status).sort();
        expect([
          [200, 401],
          [200, 409],
        ]).toContainEqual(statuses);
        const [row] = await bootstrapped.database.client.sql<{ count: number }[]>`
          SELECT count(*)::int AS count FROM admin_tokens
          WHERE role = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`;
        expect(row!.count).toBe(1);
        remaining = answers[0]!.status === 200 ? pair[0]! : pair[1]!;
      }
    });
  });
});
