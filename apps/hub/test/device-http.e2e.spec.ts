import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestService } from '../src/ingest/ingest.service.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

async function createDevice(hub: TestHub, name = 'http-device'): Promise<{ id: string; token: string }> {
  const created = await hub.api('POST', '/api/v1/devices', { body: { name } });
  expect(created.status).toBe(201);
  return { id: created.body.id, token: created.body.token };
}

/** POST as the device: `body` is sent exactly as given (a string) or as JSON. */
function post(
  hub: TestHub,
  path: string,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return hub.api('POST', path, {
    rawBody: typeof body === 'string' ? body : JSON.stringify(body),
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    auth: false,
  });
}

describe('device ingest over HTTP', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function telemetryRows(deviceId: string) {
    return hub.database.client.sql<{ metric: string; value: number; ms: number }[]>`
      SELECT metric, value, (extract(epoch FROM time) * 1000)::float8 AS ms
      FROM telemetry WHERE device_id = ${deviceId} ORDER BY time, metric`;
  }

  it('stores telemetry and answers {rows} once committed', async () => {
    const device = await createDevice(hub);
    const ts = Date.parse('2025-03-04T05:06:07.089Z');
    const answer = await post(hub, '/api/v1/device/telemetry', device.token, [
      { ts, temp: 19.5, ok: true },
      { ts: ts + 1000, temp: 19.75 },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ rows: 3 });
    expect((await telemetryRows(device.id)).map((row) => [row.ms, row.metric, row.value])).toEqual([
      [ts, 'ok', 1],
      [ts, 'temp', 19.5],
      [ts + 1000, 'temp', 19.75],
    ]);
  });

  it('reads the body whatever its Content-Type says (curl -d sends a form type)', async () => {
    const device = await createDevice(hub);
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const answer = await post(hub, '/api/v1/device/telemetry', device.token, '{"temp": 1}', {
        'Content-Type': contentType,
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ rows: 1 });
    }
  });

  it('merges state reports', async () => {
    const device = await createDevice(hub);
    expect(await post(hub, '/api/v1/device/state', device.token, { firmware: '2.0.1', mode: 'eco' })).toMatchObject({
      status: 200,
      body: { rows: 0 },
    });
    expect((await post(hub, '/api/v1/device/state', device.token, { mode: 'boost', firmware: null })).status).toBe(200);
    const [row] = await hub.database.client.sql<{ reported_state: unknown }[]>`
      SELECT reported_state FROM devices WHERE id = ${device.id}`;
    expect(row!.reported_state).toEqual({ mode: 'boost' });
  });

  it('answers 401 without a token, with a bad one, and with an admin token', async () => {
    const device = await createDevice(hub);
    for (const token of [undefined, 'thd_nope', `thd_${'A'.repeat(43)}`, hub.adminToken]) {
      const answer = await post(hub, '/api/v1/device/telemetry', token, { temp: 1 });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(answer.body).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    expect(await telemetryRows(device.id)).toEqual([]);
    let reasons: string[] = [];
    for (let attempt = 0; attempt < 20 && reasons.length < 4; attempt += 1) {
      await sleep(100);
      const rows = await hub.database.client.sql<{ reason: string }[]>`
        SELECT detail->>'reason' AS reason FROM device_events WHERE type = 'auth_failed' AND detail->>'transport' = 'http'`;
      reasons = rows.map((row) => row.reason);
    }
    expect(reasons.sort()).toEqual(['malformed_token', 'malformed_token', 'missing_token', 'unknown_token']);
  });

  it('checks the token before the body: a bad token with bad JSON is a 401', async () => {
    expect((await post(hub, '/api/v1/device/telemetry', 'thd_nope', '{not json')).status).toBe(401);
  });

  it('answers 400 with the ingest code for invalid JSON and invalid payloads', async () => {
    const device = await createDevice(hub);
    const cases: [string, unknown, string][] = [
      ['/api/v1/device/telemetry', '{"temp": 1', 'invalid_json'],
      ['/api/v1/device/telemetry', '', 'invalid_json'],
      ['/api/v1/device/telemetry', { temp: 'warm' }, 'invalid_payload'],
      ['/api/v1/device/telemetry', [], 'invalid_payload'],
      ['/api/v1/device/state', '[1, 2]', 'invalid_payload'],
      ['/api/v1/device/state', 'nope', 'invalid_json'],
    ];
    for (const [path, body, code] of cases) {
      const answer = await post(hub, path, device.token, body);
      expect(answer.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 400, code, instance: path });
      expect(answer.body.detail).toEqual(expect.any(String));
    }
    expect(await telemetryRows(device.id)).toEqual([]);
  });

  it('leaves the admin API body parsing as it was', async () => {
    const bad = await hub.api('POST', '/api/v1/devices', {
      rawBody: '{bad',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_json');
  });

  it('is in the OpenAPI document with the device token scheme', async () => {
    const document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
    const telemetry = document.paths['/api/v1/device/telemetry'].post;
    expect(telemetry.security).toEqual([{ device: [] }]);
    expect(Object.keys(telemetry.responses).sort()).toEqual(['200', '400', '401', '408', '413', '415', '429', '503']);
    expect(document.paths['/api/v1/device/state'].post).toBeDefined();
    expect(document.components.securitySchemes.device).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('device ingest over HTTP: limits', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_MAX_MESSAGE_BYTES: '1024', TELEHUB_MAX_POINTS_PER_MESSAGE: '10' });
  });
  afterAll(() => hub?.close());

  it('answers 413 for a body over TELEHUB_MAX_MESSAGE_BYTES, declared or streamed', async () => {
    const device = await createDevice(hub);
    const big = JSON.stringify({ temp: 1, note: 'x'.repeat(2000) });
    const declared = await post(hub, '/api/v1/device/telemetry', device.token, big);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ status: 413, code: 'message_too_large' });
    expect(declared.body.detail).toContain('1024 bytes');

    // Chunked, without Content-Length: cut off once past the limit.
    const chunks = [big.slice(0, 800), big.slice(800)];
    const streamed = await fetch(`${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(chunk));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).code).toBe('message_too_large');

    // Just under the limit is fine.
    const fits = await post(hub, '/api/v1/device/telemetry', device.token, { temp: 1, note: 1 });
    expect(fits.status).toBe(200);
  });

  it('answers 413 too_many_points for more points than TELEHUB_MAX_POINTS_PER_MESSAGE', async () => {
    const device = await createDevice(hub);
    const answer = await post(
      hub,
      '/api/v1/device/telemetry',
      device.token,
      Array.from({ length: 11 }, (_, index) => ({ [`m${index}`]: index })),
    );
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('too_many_points');
  });

  it('answers 503 once ingest has stopped (shutdown)', async () => {
    const device = await createDevice(hub);
    await hub.hub.app.get(IngestService).close();
    const answer = await post(hub, '/api/v1/device/telemetry', device.token, { temp: 1 });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body.code).toBe('unavailable');
  });
});
