import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DeviceSocket, type Frame } from './support/device-socket.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('JSON over WebSocket at /v1/devices/ws', () => {
  let hub: TestHub;
  let wsBase: string;
  const sockets: DeviceSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub();
    wsBase = hub.baseUrl.replace(/^http/, 'ws');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await hub?.close();
  });

  async function createDevice(name = 'ws-device'): Promise<{ id: string; token: string }> {
    const created = await hub.api('POST', '/api/v1/devices', { body: { name } });
    expect(created.status).toBe(201);
    return { id: created.body.id, token: created.body.token };
  }

  function connect(token: string | undefined, via: 'header' | 'query' = 'header'): Promise<DeviceSocket> {
    const url = `${wsBase}/v1/devices/ws${via === 'query' && token ? `?token=${token}` : ''}`;
    const headers = via === 'header' && token ? { Authorization: `Bearer ${token}` } : {};
    const ws = new WebSocket(url, { headers });
    const socket = new DeviceSocket(ws);
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
  }

  /** A handshake the hub refuses: its status and problem body. */
  function refused(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Frame }> {
    const ws = new WebSocket(`${wsBase}${path}`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('the hub accepted the handshake')));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      });
    });
  }

  async function telemetryRows(deviceId: string) {
    return hub.database.client.sql<{ metric: string; value: number; ms: number }[]>`
      SELECT metric, value, (extract(epoch FROM time) * 1000)::float8 AS ms
      FROM telemetry WHERE device_id = ${deviceId} ORDER BY time, metric`;
  }

  async function reportedState(deviceId: string): Promise<Record<string, unknown>> {
    const [row] = await hub.database.client.sql<{ reported_state: Record<string, unknown> }[]>`
      SELECT reported_state FROM devices WHERE id = ${deviceId}`;
    return row!.reported_state;
  }

  /** device_events are written every 250 ms: poll until `predicate` holds. */
  async function eventsUntil(deviceId: string | null, predicate: (types: string[]) => boolean) {
    let rows: { type: string; detail: Record<string, unknown> }[] = [];
    for (let attempt = 0; attempt < 40; attempt += 1) {
      rows =
        deviceId === null
          ? await hub.database.client.sql`SELECT type, detail FROM device_events WHERE device_id IS NULL ORDER BY id`
          : await hub.database.client
              .sql`SELECT type, detail FROM device_events WHERE device_id = ${deviceId} ORDER BY id`;
      if (predicate(rows.map((row) => row.type))) return rows;
      await sleep(100);
    }
    return rows;
  }

  it('authenticates by header and acknowledges telemetry only once the rows are committed', async () => {
    const device = await createDevice();
    const socket = await connect(device.token, 'header');
    const answer = await socket.request({ type: 'telemetry', seq: 17, data: { temp: 21.5, door: true } });
    expect(answer).toEqual({ type: 'ack', seq: 17 });
    // Queried right after the ack, with no waiting: the ack promises the rows are there.
    const rows = await telemetryRows(device.id);
    expect(rows.map((row) => [row.metric, row.value])).toEqual([
      ['door', 1],
      ['temp', 21.5],
    ]);
    socket.close();
    await socket.closed;
  });

  it('authenticates by ?token= (for browsers)', async () => {
    const device = await createDevice();
    const socket = await connect(device.token, 'query');
    expect(await socket.request({ type: 'telemetry', seq: 1, data: { rssi: -71 } })).toEqual({ type: 'ack', seq: 1 });
    expect(await telemetryRows(device.id)).toHaveLength(1);
    socket.close();
  });

  it('refuses a missing, malformed, unknown or admin token with a 401 Problem Details handshake answer', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer nope' },
      { Authorization: `Bearer thd_${'A'.repeat(43)}` },
      { Authorization: `Bearer ${hub.adminToken}` },
    ];
    for (const headers of attempts) {
      const answer = await refused('/v1/devices/ws', headers);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    await expect(connect('thd_bad', 'query')).rejects.toThrow('HTTP 401');
    const events = await eventsUntil(null, (types) => types.filter((type) => type === 'auth_failed').length >= 5);
    expect(events.filter((event) => event.type === 'auth_failed').map((event) => event.detail.reason)).toEqual(
      expect.arrayContaining(['missing_token', 'malformed_token', 'unknown_token']),
    );
  });

  it('refuses a revoked token, and records the failure against the device', async () => {
    const device = await createDevice();
    const first = await connect(device.token);
    first.close();
    await first.closed;
    const tokens = await hub.api('GET', `/api/v1/devices/${device.id}/tokens`);
    expect((await hub.api('DELETE', `/api/v1/devices/${device.id}/tokens/${tokens.body[0].id}`)).status).toBe(200);
    expect((await refused('/v1/devices/ws', { Authorization: `Bearer ${device.token}` })).status).toBe(401);
    const events = await eventsUntil(device.id, (types) => types.includes('auth_failed'));
    expect(events.find((event) => event.type === 'auth_failed')?.detail).toMatchObject({
      transport: 'ws',
      reason: 'token_revoked',
    });
  });

  it('answers unknown upgrade paths with 404', async () => {
    expect((await refused('/v1/devices/wss')).status).toBe(404);
  });

  it('stores a batch at the device timestamps', async () => {
    const device = await createDevice();
    const socket = await connect(device.token);
    const t1 = Date.parse('2025-01-02T03:04:05.678Z');
    const answer = await socket.request({
      type: 'telemetry',
      seq: 3,
      data: [
        { ts: t1, temp: 20 },
        { ts: '2025-01-02T03:05:05.678Z', temp: 21, hum: 40 },
      ],
    });
    expect(answer).toEqual({ type: 'ack', seq: 3 });
    const rows = await telemetryRows(device.id);
    expect(rows.map((row) => [row.ms, row.metric, row.value])).toEqual([
      [t1, 'temp', 20],
      [t1 + 60_000, 'hum', 40],
      [t1 + 60_000, 'temp', 21],
    ]);
    socket.close();
  });

  it('merges state reports in frame order', async () => {
    const device = await createDevice();
    const socket = await connect(device.token);
    socket.send({ type: 'state', seq: 1, data: { firmware: '1.0.0', mode: 'eco', led: 'on' } });
    socket.send({ type: 'state', seq: 2, data: { mode: 'boost' } });
    socket.send({ type: 'state', seq: 3, data: { led: null } });
    expect([await socket.next(), await socket.next(), await socket.next()]).toEqual([
      { type: 'ack', seq: 1 },
      { type: 'ack', seq: 2 },
      { type: 'ack', seq: 3 },
    ]);
    expect(await reportedState(device.id)).toEqual({ firmware: '1.0.0', mode: 'boost' });
    socket.close();
  });

  it('answers bad frames with error frames, in frame order, and keeps the session usable', async () => {
    const device = await createDevice();
    const socket = await connect(device.token);
    socket.send('{"type": "telemetry", "seq": 1, ');
    socket.send({ type: 'telemetry', seq: 2, data: { temp: 'hot' } });
    socket.send({ type: 'telemetry', seq: 3, data: { temp: 22 } });
    socket.send({ type: 'reboot', seq: 4 });
    socket.send({ type: 'telemetry', seq: 'five', data: { temp: 1 } });
    socket.send({ type: 'command_ack', seq: 6 });
    socket.send({ type: 'state', seq: 7, data: [1, 2] });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    socket.send({ type: 'telemetry', seq: 9, data: { temp: 23 } });
    const answers = [];
    for (let index = 0; index < 9; index += 1) answers.push(await socket.next());
    expect(answers).toEqual([
      { type: 'error', code: 'invalid_json', message: expect.stringContaining('not valid JSON') },
      { type: 'error', seq: 2, code: 'invalid_payload', message: expect.stringContaining('"temp"') },
      { type: 'ack', seq: 3 },
      { type: 'error', seq: 4, code: 'invalid_frame', message: expect.any(String) },
      { type: 'error', code: 'invalid_frame', message: expect.stringContaining('"seq"') },
      { type: 'error', seq: 6, code: 'invalid_frame', message: expect.stringContaining('"id"') },
      { type: 'error', seq: 7, code: 'invalid_payload', message: expect.any(String) },
      { type: 'error', code: 'invalid_frame', message: expect.stringContaining('binary') },
      { type: 'ack', seq: 9 },
    ]);
    expect((await telemetryRows(device.id)).map((row) => row.value)).toEqual([22, 23]);
    const events = await eventsUntil(
      device.id,
      (types) => types.filter((type) => type === 'message_rejected').length >= 7,
    );
    const codes = events.filter((event) => event.type === 'message_rejected').map((event) => event.detail.code);
    expect(codes.sort()).toEqual([
      'invalid_frame',
      'invalid_frame',
      'invalid_frame',
      'invalid_frame',
      'invalid_json',
      'invalid_payload',
      'invalid_payload',
    ]);
    socket.close();
  });

  it('closes with 1009 on a frame over TELEHUB_MAX_MESSAGE_BYTES', async () => {
    const device = await createDevice();
    const socket = await connect(device.token);
    socket.send({ type: 'telemetry', seq: 1, data: { note: 'x'.repeat(300 * 1024) } });
    expect((await socket.closed).code).toBe(1009);
    const events = await eventsUntil(device.id, (types) => types.includes('disconnected'));
    expect(events.find((event) => event.type === 'message_rejected')?.detail).toMatchObject({
      transport: 'ws',
      code: 'message_too_large',
    });
    expect(events.find((event) => event.type === 'disconnected')?.detail).toMatchObject({
      transport: 'ws',
      reason: 'packet_too_large',
    });
  });

  it('keeps one session per device: a second connection takes over with close code 4000', async () => {
    const device = await createDevice();
    const old = await connect(device.token);
    expect(await old.request({ type: 'telemetry', seq: 1, data: { n: 1 } })).toEqual({ type: 'ack', seq: 1 });
    const current = await connect(device.token, 'query');
    expect(await old.closed).toEqual({ code: 4000, reason: 'session taken over' });
    expect(await current.request({ type: 'telemetry', seq: 2, data: { n: 2 } })).toEqual({ type: 'ack', seq: 2 });
    current.close();
    await current.closed;
    const events = await eventsUntil(device.id, (types) => types.filter((type) => type === 'disconnected').length >= 2);
    expect(events.map((event) => [event.type, event.detail.reason])).toEqual([
      ['connected', undefined],
      ['connected', undefined],
      ['disconnected', 'taken_over'],
      ['disconnected', 'client_disconnect'],
    ]);
  });

  it('answers server pings (keep-alive) and counts sessions in /metrics', async () => {
    const device = await createDevice();
    const socket = await connect(device.token);
    const pong = new Promise((resolve) => socket.ws.once('pong', resolve));
    socket.ws.ping();
    await pong;
    const metrics = await hub.api('GET', '/metrics');
    expect(metrics.text).toMatch(/telehub_connections\{transport="ws"\} [1-9]/);
    expect(metrics.text).toMatch(/telehub_auth_failures_total\{transport="ws",reason="unknown_token"\} [1-9]/);
    socket.close();
  });
});

describe('JSON over WebSocket: limits and shutdown', () => {
  it('refuses connections beyond TELEHUB_MAX_CONNECTIONS and closes sessions with 1001 after acknowledging', async () => {
    const hub = await startTestHub({ TELEHUB_MAX_CONNECTIONS: '1' });
    const wsUrl = `${hub.baseUrl.replace(/^http/, 'ws')}/v1/devices/ws`;
    const open = (token: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { headers: { Authorization: `Bearer ${token}` } });
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
        ws.once('error', reject);
      });
    let closing: Promise<void> | undefined;
    try {
      const first = (await hub.api('POST', '/api/v1/devices', { body: { name: 'a' } })).body;
      const second = (await hub.api('POST', '/api/v1/devices', { body: { name: 'b' } })).body;
      const ws = await open(first.token);
      await expect(open(second.token)).rejects.toThrow('HTTP 503');

      const received: string[] = [];
      ws.on('message', (data) => received.push(data.toString()));
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.send(JSON.stringify({ type: 'telemetry', seq: 42, data: { temp: 1 } }));
      // Let the frame reach the hub; whatever it has read before the shutdown begins is acknowledged.
      await sleep(50);
      closing = hub.close();
      expect(await closed).toBe(1001);
      expect(received.map((text) => JSON.parse(text))).toEqual([{ type: 'ack', seq: 42 }]);
    } finally {
      await (closing ?? hub.close());
    }
  });
});
