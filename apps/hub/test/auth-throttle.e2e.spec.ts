import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_CLOSE } from '@telehub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { DEVICES } from './support/api-assertions.js';
import { startDatabaseOutage } from './support/database-outage.js';
import { deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { connackCode, httpFrom, mqttFrom, websocketFrom } from './support/from-address.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const FAILURE_BURST = 3;
/** One failure back every 2 s: a test waits at most that long for an address to be let in again. */
const FAILURE_RATE_PER_SEC = 0.5;
const CONNECT_BURST = 3;
const CONNECT_RATE_PER_SEC = 0.5;

/** A device token no device has: well-formed, so only a lookup can tell it is unknown. */
const unknownToken = () => generateToken('device').token;
const unknownAdminToken = () => generateToken('admin').token;

/** A counter's value from /metrics, summed over the series whose labels include `labels`. */
async function metric(hub: TestHub, name: string, labels: string): Promise<number> {
  const text = (await hub.api('GET', '/metrics')).text;
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function unattributedAuthFailures(hub: TestHub, address: string): Promise<number> {
  const [row] = await hub.database.client.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM device_events
    WHERE type = 'auth_failed' AND device_id IS NULL AND detail->>'remoteAddress' = ${address}`;
  return row?.count ?? 0;
}

describe('failed authentication is throttled per source address, on every transport', () => {
  let hub: TestHub;
  let target: { host: string; port: number; wsUrl: string };
  let device: ProvisionedDevice;
  const wsUrl = (path: string) => `${hub.baseUrl.replace(/^http/, 'ws')}${path}`;

  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_AUTH_FAILURE_BURST: String(FAILURE_BURST),
      TELEHUB_AUTH_FAILURE_RATE_PER_SEC: String(FAILURE_RATE_PER_SEC),
      TELEHUB_DEVICE_CONNECT_BURST: String(CONNECT_BURST),
      TELEHUB_DEVICE_CONNECT_RATE_PER_SEC: String(CONNECT_RATE_PER_SEC),
    });
    target = { host: '127.0.0.1', port: hub.hub.mqttPort!, wsUrl: hub.mqttWsUrl };
    device = await provisionDevice(hub, 'throttled-neighbour');
  });
  afterAll(() => hub?.close());

  /** Spends an address's failure budget with bad MQTT CONNECTs, each refused as bad credentials. */
  async function exhaust(address: string): Promise<void> {
    for (let attempt = 0; attempt < FAILURE_BURST; attempt += 1) {
      const client = mqttFrom(address, target, { protocolVersion: 5, username: 'x', password: unknownToken() });
      expect(await connackCode(client)).toBe(0x86);
    }
  }

  it('MQTT: CONNACK 0x9F (MQTT 5) / 3 (3.1.1) once the address has no failures left, even for a valid token', async () => {
    const address = '127.0.0.2';
    const throttledBefore = await metric(hub, 'telehub_auth_throttled_total', 'transport="mqtt"');
    await exhaust(address);

    for (const protocolVersion of [5, 4] as const) {
      for (const password of [unknownToken(), device.token]) {
        const client = mqttFrom(address, target, { protocolVersion, username: device.id, password });
        expect(await connackCode(client)).toBe(protocolVersion === 5 ? 0x9f : 3);
      }
    }
    const overWebSocket = mqttFrom(address, target, {
      transport: 'ws',
      protocolVersion: 5,
      username: device.id,
      password: device.token,
    });
    expect(await connackCode(overWebSocket)).toBe(0x9f);

    // Counted, and not recorded as device events: only the three real failures were.
    expect(await metric(hub, 'telehub_auth_throttled_total', 'transport="mqtt"')).toBe(throttledBefore + 4);
    expect(await metric(hub, 'telehub_auth_throttled_total', 'transport="mqtt-ws"')).toBe(1);
    expect(await eventually(async () => (await unattributedAuthFailures(hub, address)) >= FAILURE_BURST)).toBe(true);
    expect(await unattributedAuthFailures(hub, address)).toBe(FAILURE_BURST);

    // Another address is not affected.
    const neighbour = mqttFrom('127.0.0.3', target, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
    });
    expect(await connackCode(neighbour)).toBe(0);
    neighbour.end(true);
  });

  it('lets the address try again once a failure has refilled (the Retry-After time)', async () => {
    const address = '127.0.0.4';
    await exhaust(address);
    const refused = await httpFrom(address, `${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      body: '{"temp": 1}',
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(1 / FAILURE_RATE_PER_SEC));

    await sleep(retryAfter * 1000);
    const client = mqttFrom(address, target, { protocolVersion: 5, username: device.id, password: device.token });
    expect(await connackCode(client)).toBe(0);
    client.end(true);
  });

  it('shares one budget between all transports and both kinds of token, and refuses each in its own terms', async () => {
    const address = '127.0.0.5';
    // One failure each over HTTP device ingest, the admin API and the device WebSocket.
    const badDevice = await httpFrom(address, `${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${unknownToken()}`, 'Content-Type': 'application/json' },
      body: '{"temp": 1}',
    });
    expect(badDevice.status).toBe(401);
    const badAdmin = await httpFrom(address, `${hub.baseUrl}${DEVICES}`, {
      headers: { Authorization: `Bearer ${unknownAdminToken()}` },
    });
    expect(badAdmin.status).toBe(401);
    const badSocket = await websocketFrom(address, wsUrl('/v1/devices/ws'), {
      Authorization: `Bearer ${unknownToken()}`,
    });
    expect(badSocket.status).toBe(401);

    // Now every way in is refused before the token is looked up, valid tokens included.
    const mqttClient = mqttFrom(address, target, { protocolVersion: 5, username: device.id, password: device.token });
    expect(await connackCode(mqttClient)).toBe(0x9f);

    const ingest = await httpFrom(address, `${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      body: '{"temp": 1}',
    });
    expect(ingest.status).toBe(429);
    expect(ingest.body.code).toBe('auth_throttled');
    expect(Number(ingest.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const admin = await httpFrom(address, `${hub.baseUrl}${DEVICES}`, {
      headers: { Authorization: `Bearer ${hub.adminToken}` },
    });
    expect(admin.status).toBe(429);
    expect(admin.body.code).toBe('auth_throttled');
    expect(admin.body.detail).toContain('TELEHUB_AUTH_FAILURE_BURST');
    expect(Number(admin.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const deviceSocket = await websocketFrom(address, wsUrl('/v1/devices/ws'), {
      Authorization: `Bearer ${device.token}`,
    });
    expect(deviceSocket.status).toBe(429);
    expect(deviceSocket.body.code).toBe('auth_throttled');
    expect(Number(deviceSocket.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    const adminSocket = await websocketFrom(address, wsUrl('/v1/admin/ws'), {
      Authorization: `Bearer ${hub.adminToken}`,
    });
    expect(adminSocket.status).toBe(429);
    expect(Number(adminSocket.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    for (const transport of ['http', 'admin-http', 'ws', 'admin-ws']) {
      expect(await metric(hub, 'telehub_auth_throttled_total', `transport="${transport}"`)).toBeGreaterThanOrEqual(1);
    }
    // The test's own address (127.0.0.1) still gets in.
    expect((await hub.api('GET', DEVICES)).status).toBe(200);
  });

  it('closes an admin WebSocket with 4429 when its auth message comes from an address that ran out meanwhile', async () => {
    const address = '127.0.0.6';
    const opened = await websocketFrom(address, wsUrl('/v1/admin/ws'));
    expect(opened.status).toBe(101);
    const closed = new Promise<number>((resolve) => opened.ws!.once('close', (code) => resolve(code)));
    for (let attempt = 0; attempt < FAILURE_BURST; attempt += 1) {
      const response = await httpFrom(address, `${hub.baseUrl}${DEVICES}`, {
        headers: { Authorization: `Bearer ${unknownAdminToken()}` },
      });
      expect(response.status).toBe(401);
    }
    opened.ws!.send(JSON.stringify({ type: 'auth', token: hub.adminToken }));
    expect(await closed).toBe(ADMIN_CLOSE.authThrottled);
  });

  it('counts a wrong /metrics token as a failure, and refuses a throttled address there with 429 and Retry-After', async () => {
    const address = '127.0.0.9';
    const throttledBefore = await metric(hub, 'telehub_auth_throttled_total', 'transport="metrics"');
    for (let attempt = 0; attempt < FAILURE_BURST; attempt += 1) {
      const response = await httpFrom(address, `${hub.baseUrl}/metrics`, {
        headers: { Authorization: `Bearer ${unknownAdminToken()}` },
      });
      expect(response.status).toBe(401);
    }
    // The same budget as every other way in: the admin API is refused too, even to a valid token.
    const admin = await httpFrom(address, `${hub.baseUrl}${DEVICES}`, {
      headers: { Authorization: `Bearer ${hub.adminToken}` },
    });
    expect(admin.status).toBe(429);
    const scrape = await httpFrom(address, `${hub.baseUrl}/metrics`, {
      headers: { Authorization: `Bearer ${hub.adminToken}` },
    });
    expect(scrape.status).toBe(429);
    expect(scrape.body.code).toBe('auth_throttled');
    expect(Number(scrape.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await metric(hub, 'telehub_auth_throttled_total', 'transport="metrics"')).toBe(throttledBefore + 1);
  });

  it('refuses a throttled address without a database lookup: it gets 0x9F while the database is down, not 0x88', async () => {
    const throttled = '127.0.0.7';
    await exhaust(throttled);
    const outage = await startDatabaseOutage(hub.database);
    try {
      // A fresh address with an unknown token: the hub must look it up, and cannot.
      const looked = mqttFrom('127.0.0.8', target, { protocolVersion: 5, username: 'x', password: unknownToken() });
      expect(await connackCode(looked)).toBe(0x88);
      const refused = mqttFrom(throttled, target, { protocolVersion: 5, username: 'x', password: unknownToken() });
      expect(await connackCode(refused)).toBe(0x9f);
    } finally {
      await outage.end();
    }
  });
});

describe('connections per device (a device reconnecting in a tight loop)', () => {
  let hub: TestHub;
  let target: { host: string; port: number; wsUrl: string };
  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_DEVICE_CONNECT_BURST: String(CONNECT_BURST),
      TELEHUB_DEVICE_CONNECT_RATE_PER_SEC: String(CONNECT_RATE_PER_SEC),
    });
    target = { host: '127.0.0.1', port: hub.hub.mqttPort!, wsUrl: hub.mqttWsUrl };
  });
  afterAll(() => hub?.close());

  it('refuses connections over the burst with 0x9F / 3 / WebSocket 429, keeps the live session, and records it once', async () => {
    const device = await provisionDevice(hub, 'flapping');
    const other = await provisionDevice(hub, 'steady');
    const credentials = { username: device.id, password: device.token };
    const before = await metric(hub, 'telehub_connect_rate_limited_total', 'transport="mqtt"');

    let live = mqttFrom('127.0.0.1', target, { protocolVersion: 5, ...credentials });
    expect(await connackCode(live)).toBe(0);
    for (let connect = 1; connect < CONNECT_BURST; connect += 1) {
      const next = mqttFrom('127.0.0.1', target, { protocolVersion: 5, ...credentials });
      expect(await connackCode(next)).toBe(0);
      live = next;
    }

    const v5 = mqttFrom('127.0.0.1', target, { protocolVersion: 5, ...credentials });
    expect(await connackCode(v5)).toBe(0x9f);
    const v4 = mqttFrom('127.0.0.1', target, { protocolVersion: 4, ...credentials });
    expect(await connackCode(v4)).toBe(3);
    const socket = await websocketFrom(undefined, `${hub.baseUrl.replace(/^http/, 'ws')}/v1/devices/ws`, {
      Authorization: `Bearer ${device.token}`,
    });
    expect(socket.status).toBe(429);
    expect(socket.body.code).toBe('connect_rate_limited');
    expect(socket.body.detail).toContain('TELEHUB_DEVICE_CONNECT_RATE_PER_SEC');
    expect(Number(socket.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    // The refused attempts took nothing over: the last accepted session is still the device's.
    expect(live.connected).toBe(true);
    await live.publishAsync('devices/me/telemetry', '{"temp": 1}', { qos: 1 });
    expect((await hub.api('GET', `${DEVICES}/${device.id}`)).body.online).toBe(true);

    // Another device is not affected.
    const steady = mqttFrom('127.0.0.1', target, { protocolVersion: 5, username: other.id, password: other.token });
    expect(await connackCode(steady)).toBe(0);
    steady.end(true);

    expect(await metric(hub, 'telehub_connect_rate_limited_total', 'transport="mqtt"')).toBe(before + 2);
    expect(await metric(hub, 'telehub_connect_rate_limited_total', 'transport="ws"')).toBe(1);
    const limited = await eventually(async () =>
      (await deviceEvents(hub, device.id)).filter((event) => event.type === 'connect_rate_limited'),
    );
    expect(limited).toHaveLength(1);
    expect(limited[0]?.detail).toMatchObject({ transport: 'mqtt', ratePerSec: CONNECT_RATE_PER_SEC });

    // Once the bucket refills, the device connects again.
    await sleep(Math.ceil(1000 / CONNECT_RATE_PER_SEC));
    const again = mqttFrom('127.0.0.1', target, { protocolVersion: 5, ...credentials });
    expect(await connackCode(again)).toBe(0);
    again.end(true);
    live.end(true);
  });
});
