import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { AdminClient } from './support/admin-client.js';
import { startDatabaseOutage } from './support/database-outage.js';
import { provisionDevice } from './support/devices.js';
import { websocketFrom } from './support/from-address.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const MAX_UNAUTHENTICATED = 5;
const EXTRA_ORIGIN = 'https://dash.example.com';

describe('admin WebSocket exposure: connections still to authenticate, and browser origins', () => {
  let hub: TestHub;
  const sockets: WebSocket[] = [];
  const adminUrl = () => `${hub.baseUrl.replace(/^http/, 'ws')}/v1/admin/ws`;

  /** An admin-channel handshake with these headers (and no address of its own). */
  async function handshake(headers: Record<string, string> = {}) {
    const answer = await websocketFrom(undefined, adminUrl(), headers);
    if (answer.ws) sockets.push(answer.ws);
    return answer;
  }

  function closed(ws: WebSocket): Promise<number> {
    return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED: String(MAX_UNAUTHENTICATED),
      TELEHUB_ADMIN_ORIGINS: `${EXTRA_ORIGIN}, http://localhost:5173`,
      // Long enough that the waiting connections below do not time out during the test.
      TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS: '20000',
    });
  });
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(() => hub?.close());

  it(`accepts ${MAX_UNAUTHENTICATED} connections that have not authenticated, refuses the next with 503, and takes one again once another authenticates`, async () => {
    const waiting: WebSocket[] = [];
    for (let n = 0; n < MAX_UNAUTHENTICATED; n += 1) {
      const answer = await handshake();
      expect(answer.status).toBe(101);
      waiting.push(answer.ws!);
    }

    const refused = await handshake();
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('too_many_unauthenticated');
    expect(refused.body.detail).toContain('TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED');
    expect(Number(refused.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    // A tool with the token in its handshake header is authenticated at once: the cap does not apply to it.
    const byHeader = await AdminClient.open(hub.baseUrl, { Authorization: `Bearer ${hub.adminToken}` });
    expect((await byHeader.next('auth_ok')).type).toBe('auth_ok');
    byHeader.close();

    // One of the waiting connections authenticates: a place is free again.
    const first = waiting[0]!;
    const authOk = new Promise<void>((resolve) =>
      first.on('message', (data) => {
        if (JSON.parse(data.toString()).type === 'auth_ok') resolve();
      }),
    );
    first.send(JSON.stringify({ type: 'auth', token: hub.adminToken }));
    await authOk;
    expect((await handshake()).status).toBe(101);
    expect((await handshake()).status).toBe(503);

    // One closes: a place is free again.
    const second = waiting[1]!;
    const gone = closed(second);
    second.close();
    await gone;
    expect((await handshake()).status).toBe(101);

    const metrics = (await hub.api('GET', '/metrics')).text;
    expect(metrics).toMatch(/telehub_admin_ws_refused_total\{reason="unauthenticated_limit"\} 2/);
  });

  describe('Origin', () => {
    const ownOrigin = () => hub.baseUrl;

    it("accepts the hub's own origin, the configured ones, and clients that send none", async () => {
      for (const origin of [
        ownOrigin(),
        ownOrigin().replace('http:', 'https:'),
        EXTRA_ORIGIN,
        'http://localhost:5173',
      ]) {
        const answer = await handshake({ Origin: origin });
        expect(answer.status, origin).toBe(101);
        answer.ws!.terminate();
      }
      const client = await AdminClient.open(hub.baseUrl);
      client.send({ type: 'auth', token: hub.adminToken });
      expect((await client.next('auth_ok')).type).toBe('auth_ok');
      client.close();
    });

    it('refuses a page of any other origin with 403, even with a valid token', async () => {
      const port = new URL(hub.baseUrl).port;
      for (const origin of [
        'http://evil.example',
        `http://evil.example:${port}`,
        `http://127.0.0.1:${Number(port) + 1}`,
        `${EXTRA_ORIGIN}:8443`,
        'null',
      ]) {
        const answer = await handshake({ Origin: origin, Authorization: `Bearer ${hub.adminToken}` });
        expect(answer.status, origin).toBe(403);
        expect(answer.body.code).toBe('origin_not_allowed');
        expect(answer.body.detail).toContain('TELEHUB_ADMIN_ORIGINS');
      }
      const metrics = (await hub.api('GET', '/metrics')).text;
      expect(metrics).toMatch(/telehub_admin_ws_refused_total\{reason="origin"\} 5/);
    });

    it('leaves the device WebSockets open to any origin: devices are not browsers', async () => {
      const device = await provisionDevice(hub, 'any-origin');
      const deviceSocket = await websocketFrom(undefined, `${hub.baseUrl.replace(/^http/, 'ws')}/v1/devices/ws`, {
        Origin: 'http://evil.example',
        Authorization: `Bearer ${device.token}`,
      });
      expect(deviceSocket.status).toBe(101);
      deviceSocket.ws!.terminate();

      const overWebSocket = await mqtt.connectAsync(hub.mqttWsUrl, {
        protocolVersion: 5,
        username: device.id,
        password: device.token,
        reconnectPeriod: 0,
        wsOptions: { headers: { Origin: 'http://evil.example' } },
      });
      expect(overWebSocket.connected).toBe(true);
      await overWebSocket.endAsync();
    });
  });

  it('answers a token it cannot check (the database is down) with 503 or close 1013, and keeps running', async () => {
    const waiting = await handshake();
    expect(waiting.status).toBe(101);
    const closedCode = closed(waiting.ws!);
    const outage = await startDatabaseOutage(hub.database);
    try {
      const byHeader = await handshake({ Authorization: `Bearer ${hub.adminToken}` });
      expect(byHeader.status).toBe(503);
      expect(byHeader.body.code).toBe('unavailable');
      waiting.ws!.send(JSON.stringify({ type: 'auth', token: hub.adminToken }));
      // Try again later (RFC 6455 §7.4.1, registered 1013): not 4403, which would tell the dashboard its token is wrong.
      expect(await closedCode).toBe(1013);
    } finally {
      await outage.end();
    }
    const client = await AdminClient.open(hub.baseUrl);
    client.send({ type: 'auth', token: hub.adminToken });
    expect((await client.next('auth_ok', { timeoutMs: 10_000 })).type).toBe('auth_ok');
    client.close();
  });
});
