import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { ADMIN_ROUTES, createDevice, DEVICES, expectProblem } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const VALID_BODIES: Record<string, unknown> = {
  'POST /api/v1/devices': { name: 'sneaky' },
  'POST /api/v1/devices/bulk': [{ name: 'sneaky' }],
  'PATCH /api/v1/devices/{deviceId}': { name: 'renamed', disabled: true },
};

describe('admin authentication', () => {
  let hub: TestHub;
  let deviceId: string;
  let deviceToken: string;
  let tokenId: string;
  /** "METHOD /path" of every /api route in the OpenAPI document, and of those it marks as needing the admin token. */
  let apiRoutes: string[];
  let adminRoutes: string[];

  beforeAll(async () => {
    // This file presents hundreds of wrong tokens from one address on purpose; the failure throttle that would
    // answer them 429 has its own tests (auth-throttle.e2e.spec.ts).
    hub = await startTestHub({ TELEHUB_AUTH_FAILURE_BURST: '0' });
    const device = await createDevice(hub, { name: 'guarded', labels: ['guarded'] });
    deviceId = device.id;
    deviceToken = device.token;
    tokenId = (await hub.api('GET', `${DEVICES}/${deviceId}/tokens`)).body[0].id;
    const document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
    const operations = Object.entries(document.paths as Record<string, Record<string, { security?: object[] }>>)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
      );
    apiRoutes = operations.map(({ route }) => route);
    adminRoutes = operations
      .filter(({ operation }) => JSON.stringify(operation.security) === JSON.stringify([{ bearer: [] }]))
      .map(({ route }) => route);
  });
  afterAll(() => hub?.close());

  /** Calls "METHOD /path/{param}" on the real device and token, with these headers and a valid body. */
  function call(route: string, headers: Record<string, string>) {
    const [method, template] = route.split(' ') as [string, string];
    const path = template.replace('{deviceId}', deviceId).replace('{tokenId}', tokenId);
    const body = VALID_BODIES[route] ?? (method === 'GET' || method === 'DELETE' ? undefined : {});
    return hub.api(method, path, { body, headers, auth: false });
  }

  async function expectUntouched(): Promise<void> {
    const device = await hub.api('GET', `${DEVICES}/${deviceId}`);
    expect(device.body).toMatchObject({ name: 'guarded', disabled: false });
    const tokens = await hub.api('GET', `${DEVICES}/${deviceId}/tokens`);
    expect(tokens.body).toHaveLength(1);
    expect(tokens.body[0]).toMatchObject({ id: tokenId, active: true });
    expect((await hub.api('GET', DEVICES)).body.items).toHaveLength(1);
  }

  it('finds every provisioning route in the OpenAPI document, marked as needing the admin token', () => {
    expect(adminRoutes).toEqual(expect.arrayContaining(ADMIN_ROUTES));
  });

  it('answers every /api route without Authorization with 401 Problem Details and WWW-Authenticate: Bearer', async () => {
    for (const route of apiRoutes) {
      const response = await call(route, {});
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
      expectProblem(response, 401, 'unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    await expectUntouched();
  });

  it.each([
    ['an unknown admin token', () => `Bearer ${generateToken('admin').token}`],
    ['a device token', () => `Bearer ${deviceToken}`],
    [
      'the admin token with its last character changed',
      () => `Bearer ${hub.adminToken!.slice(0, -1)}${hub.adminToken!.endsWith('A') ? 'B' : 'A'}`,
    ],
    ['the admin token under the Basic scheme', () => `Basic ${hub.adminToken}`],
    ['the admin token without a scheme', () => hub.adminToken!],
    ['Bearer and nothing else', () => 'Bearer '],
    ['two tokens', () => `Bearer ${hub.adminToken} ${hub.adminToken}`],
  ])('answers 401 for %s on every admin route', async (_title, authorization) => {
    for (const route of adminRoutes) {
      const response = await call(route, { Authorization: authorization() });
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
      expect(response.body.code).toBe('unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    await expectUntouched();
  });

  it('accepts the admin token, with the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await hub.api('GET', DEVICES, { headers: { Authorization: `${scheme} ${hub.adminToken}` } });
      expect(response.status).toBe(200);
    }
  });

  it('serves /healthz and /readyz without a token, and ignores a wrong one there', async () => {
    for (const path of ['/healthz', '/readyz']) {
      expect((await hub.api('GET', path, { auth: false })).status).toBe(200);
      expect((await hub.api('GET', path, { headers: { Authorization: 'Bearer nonsense' } })).status).toBe(200);
    }
  });

  it('rejects an admin token as soon as it is revoked', async () => {
    const sql = hub.database.client.sql;
    await sql`UPDATE admin_tokens SET revoked_at = now()`;
    try {
      expectProblem(await hub.api('GET', DEVICES), 401, 'unauthorized');
    } finally {
      await sql`UPDATE admin_tokens SET revoked_at = NULL`;
    }
    expect((await hub.api('GET', DEVICES)).status).toBe(200);
  });

  it('records when the admin token was last used', async () => {
    const [row] = await hub.database.client.sql<{ age_seconds: number | null }[]>`
      SELECT extract(epoch FROM now() - last_used_at)::float8 AS age_seconds FROM admin_tokens WHERE name = 'environment'`;
    expect(row!.age_seconds).not.toBeNull();
    expect(row!.age_seconds).toBeLessThan(60);
  });
});
