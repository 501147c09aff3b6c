import { ADMIN_MESSAGE_ROLES, AdminClientMessageSchema, type AdminRole, roleAllows } from '@telehub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './support/admin-client.js';
import { ADMIN_TOKENS, as, createAdminToken } from './support/admin-tokens.js';
import { DEVICES, expectProblem } from './support/api-assertions.js';
import { provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/**
 * Who may call each route the hub serves, as "METHOD /express/path": a role (that role and the ones above it),
 * `public` (no token at all), `device` (a device token, not an admin token) or `metrics` (any admin token, or
 * the metrics token: TELEHUB_METRICS_AUTH). Every route the hub registers must be here, and everything here
 * must be a route: a new route without a decision fails this test.
 */
const ROUTE_ROLES: Record<string, AdminRole | 'public' | 'device' | 'metrics'> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'metrics',
  'POST /api/v1/device/telemetry': 'device',
  'POST /api/v1/device/state': 'device',
  'GET /api/v1/fleet/summary': 'viewer',
  'GET /api/v1/devices': 'viewer',
  'POST /api/v1/devices': 'admin',
  'POST /api/v1/devices/bulk': 'admin',
  'GET /api/v1/devices/:deviceId': 'viewer',
  'PATCH /api/v1/devices/:deviceId': 'admin',
  'DELETE /api/v1/devices/:deviceId': 'admin',
  'GET /api/v1/devices/:deviceId/events': 'viewer',
  'GET /api/v1/devices/:deviceId/telemetry': 'viewer',
  'GET /api/v1/devices/:deviceId/tokens': 'viewer',
  'POST /api/v1/devices/:deviceId/tokens': 'admin',
  'DELETE /api/v1/devices/:deviceId/tokens/:tokenId': 'admin',
  'GET /api/v1/devices/:deviceId/commands': 'viewer',
  'POST /api/v1/devices/:deviceId/commands': 'operator',
  'GET /api/v1/devices/:deviceId/commands/:commandId': 'viewer',
  'POST /api/v1/devices/:deviceId/commands/:commandId/cancel': 'operator',
  'GET /api/v1/admin-tokens': 'admin',
  'POST /api/v1/admin-tokens': 'admin',
  'GET /api/v1/admin-tokens/me': 'viewer',
  'DELETE /api/v1/admin-tokens/:tokenId': 'admin',
};
/** The API documentation (Swagger UI and the OpenAPI document) is public by decision, whatever its files are. */
const DOCUMENTATION = /^GET \/api\/(docs|openapi\.)/;

/** What each admin channel message needs; every message type of the protocol must be here. */
const MESSAGE_ROLES: Record<string, AdminRole> = {
  auth: 'viewer',
  ping: 'viewer',
  subscribe: 'viewer',
  unsubscribe: 'viewer',
  command: 'operator',
};

const ROLES: AdminRole[] = ['viewer', 'operator', 'admin'];

describe('roles: every REST route and admin channel message has one, and it is enforced', () => {
  let hub: TestHub;
  let deviceId: string;
  let deviceToken: string;
  const tokens = {} as Record<AdminRole, string>;
  let fresh = 0;

  beforeAll(async () => {
    hub = await startTestHub();
    ({ id: deviceId, token: deviceToken } = await provisionDevice(hub, 'roles'));
    for (const role of ROLES) tokens[role] = (await createAdminToken(hub, { name: `${role} token`, role })).token;
  });
  afterAll(() => hub?.close());

  /** Every route the HTTP server has, from Express's router: Nest's controllers and anything registered around them. */
  function registeredRoutes(): string[] {
    const express = hub.hub.app.getHttpAdapter().getInstance();
    const stack = express.router.stack as { route?: { path: string; methods: Record<string, boolean> } }[];
    return stack.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${layer.route!.path}`)
        : [],
    );
  }

  /** A call of `route` that succeeds for a token allowed to make it: real ids, valid bodies, fresh targets to delete. */
  async function requestFor(route: string): Promise<{ path: string; body?: unknown }> {
    const [, template] = route.split(' ') as [string, string];
    const unique = `r${++fresh}`;
    const params: Record<string, string> = { deviceId };
    if (route === 'DELETE /api/v1/devices/:deviceId') params.deviceId = (await provisionDevice(hub, unique)).id;
    if (route === 'DELETE /api/v1/devices/:deviceId/tokens/:tokenId') {
      const issued = await hub.api('POST', `${DEVICES}/${deviceId}/tokens`, { body: {} });
      params.tokenId = issued.body.id;
    }
    if (route.includes(':commandId')) {
      params.commandId = (await hub.api('POST', `${DEVICES}/${deviceId}/commands`, { body: { name: 'noop' } })).body.id;
    }
    if (route === 'DELETE /api/v1/admin-tokens/:tokenId') {
      params.tokenId = (await createAdminToken(hub, { name: unique, role: 'viewer' })).id;
    }
    const path = template.replace(/:(\w+)/g, (_match, name: string) => params[name] ?? `missing-${name}`);
    const bodies: Record<string, unknown> = {
      'POST /api/v1/devices': { name: unique },
      'POST /api/v1/devices/bulk': [{ name: unique }],
      'PATCH /api/v1/devices/:deviceId': { labels: [unique] },
      'POST /api/v1/devices/:deviceId/tokens': {},
      'POST /api/v1/devices/:deviceId/commands': { name: 'noop' },
      'POST /api/v1/admin-tokens': { name: unique, role: 'viewer' },
      'POST /api/v1/device/telemetry': { temp: 21.5 },
      'POST /api/v1/device/state': { firmware: '1.0' },
    };
    return { path, body: bodies[route] };
  }

  /** What a forbidden call must not have changed. */
  async function fingerprint(): Promise<unknown> {
    const [row] = await hub.database.client.sql`
      SELECT (SELECT count(*) FROM devices) AS devices,
             (SELECT string_agg(name || labels::text || disabled::text, ',' ORDER BY id) FROM devices) AS device_fields,
             (SELECT count(*) FROM device_tokens WHERE revoked_at IS NULL) AS device_tokens,
             (SELECT string_agg(id::text || status, ',' ORDER BY id) FROM commands) AS commands,
             (SELECT string_agg(id::text || coalesce(revoked_at::text, ''), ',' ORDER BY id) FROM admin_tokens) AS admin_tokens`;
    return row;
  }

  it('has a decision for every route the hub serves, and no decision for a route it does not serve', () => {
    const routes = registeredRoutes();
    const undecided = routes.filter((route) => !(route in ROUTE_ROLES) && !DOCUMENTATION.test(route));
    expect(undecided, 'routes without a role decision in ROUTE_ROLES').toEqual([]);
    expect(Object.keys(ROUTE_ROLES).filter((route) => !routes.includes(route))).toEqual([]);
    expect(routes.filter((route) => DOCUMENTATION.test(route)).length).toBeGreaterThan(0);
  });

  it('answers each role 403 Problem Details on routes above it, and lets it through on the others', async () => {
    for (const [route, decision] of Object.entries(ROUTE_ROLES)) {
      if (decision === 'public' || decision === 'device' || decision === 'metrics') continue;
      const [method] = route.split(' ') as [string];
      for (const role of ROLES) {
        const request = await requestFor(route);
        const before = await fingerprint();
        const response = await hub.api(method, request.path, as(tokens[role], { body: request.body }));
        const call = `${role} → ${route}`;
        if (roleAllows(role, decision)) {
          expect({ call, status: response.status, body: response.body }).toMatchObject({
            call,
            status: expect.toSatisfy((status: number) => status >= 200 && status < 300),
          });
        } else {
          expect({ call, status: response.status }).toEqual({ call, status: 403 });
          const problem = expectProblem(response, 403, 'forbidden');
          expect(problem.detail).toContain(`needs the ${decision} role`);
          expect(problem.detail).toContain(`has the ${role} role`);
          expect({ call, state: await fingerprint() }).toEqual({ call, state: before });
        }
      }
      // Without a token: 401, whatever the role.
      const request = await requestFor(route);
      expectProblem(await hub.api(method, request.path, { body: request.body, auth: false }), 401, 'unauthorized');
    }
  });

  it('serves the public routes without a token, metrics to any admin token, and the device routes to a device token and no admin token', async () => {
    for (const [route, decision] of Object.entries(ROUTE_ROLES)) {
      const [method] = route.split(' ') as [string];
      const request = await requestFor(route);
      if (decision === 'public') {
        const response = await hub.api(method, request.path, { auth: false });
        expect({ route, status: response.status }).toEqual({ route, status: 200 });
      }
      if (decision === 'metrics') {
        expectProblem(await hub.api(method, request.path, { auth: false }), 401, 'unauthorized');
        expectProblem(await hub.api(method, request.path, as(deviceToken)), 401, 'unauthorized');
        for (const role of ROLES) {
          const response = await hub.api(method, request.path, as(tokens[role]));
          expect({ route, role, status: response.status }).toEqual({ route, role, status: 200 });
        }
      }
      if (decision === 'device') {
        const device = await hub.api(method, request.path, as(deviceToken, { body: request.body }));
        expect({ route, status: device.status }).toEqual({ route, status: 200 });
        for (const role of ROLES) {
          const admin = await hub.api(method, request.path, as(tokens[role], { body: request.body }));
          expect({ route, role, status: admin.status }).toEqual({ route, role, status: 401 });
        }
      }
    }
    const documentation = registeredRoutes().filter((route) => DOCUMENTATION.test(route));
    for (const path of ['/api/docs', '/api/openapi.json', '/api/openapi.yaml']) {
      expect(documentation).toContain(`GET ${path}`);
      expect((await hub.api('GET', path, { auth: false })).status).toBe(200);
    }
  });

  it('documents each admin route with its role (x-telehub-role) and its 403 in the OpenAPI document', async () => {
    const document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
    for (const [route, decision] of Object.entries(ROUTE_ROLES)) {
      if (decision === 'public' || decision === 'device' || decision === 'metrics') continue;
      const [method, path] = route.split(' ') as [string, string];
      const operation = document.paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      expect({ route, role: operation?.['x-telehub-role'] }).toEqual({ route, role: decision });
      expect({ route, documents403: operation.responses['403'] !== undefined }).toEqual({
        route,
        documents403: decision !== 'viewer',
      });
    }
  });

  it('has a role for every admin channel message type, the same in the protocol contract', () => {
    const types = AdminClientMessageSchema.options.map((option) => option.shape.type.value);
    expect(types.filter((type) => !(type in MESSAGE_ROLES))).toEqual([]);
    expect(Object.keys(MESSAGE_ROLES).filter((type) => !types.includes(type as never))).toEqual([]);
    expect(ADMIN_MESSAGE_ROLES).toEqual(MESSAGE_ROLES);
  });

  it('answers each role `forbidden` for channel messages above it, and handles the others', async () => {
    const examples: Record<string, (token: string) => Record<string, unknown>> = {
      auth: (token) => ({ type: 'auth', token }),
      ping: () => ({ type: 'ping', ref: 'm' }),
      subscribe: () => ({ type: 'subscribe', id: 'm', devices: [deviceId], metrics: '*', history: '-1m' }),
      unsubscribe: () => ({ type: 'unsubscribe', id: 'm' }),
      command: () => ({ type: 'command', ref: 'm', deviceId, name: 'noop' }),
    };
    /** The answer a message gets when allowed (auth, once signed in, gets none). */
    const answers: Record<string, string | undefined> = {
      auth: undefined,
      ping: 'pong',
      subscribe: 'snapshot',
      unsubscribe: 'unsubscribed',
      command: 'command_created',
    };
    expect(Object.keys(examples).sort()).toEqual(Object.keys(MESSAGE_ROLES).sort());
    for (const [type, needed] of Object.entries(MESSAGE_ROLES)) {
      for (const role of ROLES) {
        const client = await AdminClient.signedIn(hub.baseUrl, tokens[role]);
        try {
          expect(client.ofType('auth_ok')[0]?.role).toBe(role);
          const before = await fingerprint();
          client.send(examples[type]!(tokens[role]));
          // A ping after it: when its pong comes, the answer to the message came before it.
          client.send({ type: 'ping', ref: 'after' });
          await client.next('pong', { where: (pong) => pong.ref === 'after' });
          const forbidden = client.ofType('error').filter((error) => error.code === 'forbidden');
          const call = `${role} → ${type}`;
          if (roleAllows(role, needed)) {
            expect({ call, forbidden }).toEqual({ call, forbidden: [] });
            const answer = answers[type];
            if (answer) await client.next(answer as 'pong');
          } else {
            expect({ call, forbidden }).toEqual({
              call,
              forbidden: [
                {
                  type: 'error',
                  id: 'm',
                  code: 'forbidden',
                  message: `"${type}" needs the ${needed} role; this admin token has the ${role} role`,
                },
              ],
            });
            expect({ call, state: await fingerprint() }).toEqual({ call, state: before });
            // Refused, not disconnected: the connection still answers.
            client.send({ type: 'ping', ref: 'still' });
            await client.next('pong', { where: (pong) => pong.ref === 'still' });
          }
        } finally {
          client.close();
        }
      }
    }
  });

  it('tells a token who it is (GET /api/v1/admin-tokens/me) for every role', async () => {
    for (const role of ROLES) {
      const response = await hub.api('GET', `${ADMIN_TOKENS}/me`, as(tokens[role]));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: expect.any(String),
        name: `${role} token`,
        role,
        source: 'api',
        expiresAt: null,
      });
    }
  });
});
