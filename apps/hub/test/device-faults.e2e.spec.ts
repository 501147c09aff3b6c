import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '@telehub/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../../libs/device-client/test/support/tcp-proxy.js';
import { IngestService } from '../src/ingest/ingest.service.js';
import { startDatabaseOutage } from './support/database-outage.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { countRows, deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { pubackReason } from './support/mqtt.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const clients: MqttClient[] = [];
const sockets: DeviceSocket[] = [];

function devicePost(hub: TestHub, device: ProvisionedDevice, path: 'telemetry' | 'state', body: unknown) {
  return hub.api('POST', `/api/v1/device/${path}`, {
    rawBody: JSON.stringify(body),
    headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
  });
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  for (const socket of sockets.splice(0)) socket.ws.terminate();
});

describe('8. a WebSocket device over its rate', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_DEVICE_RATE_PER_SEC: '20',
      TELEHUB_DEVICE_RATE_BURST: '5',
      TELEHUB_RATE_LIMIT_DISCONNECT_MS: '900',
    });
  });
  afterAll(() => hub?.close());

  it('is closed with 1008 and recorded once per episode, however many frames were still arriving', async () => {
    const device = await provisionDevice(hub);
    const socket = await connectDeviceSocket(hub.baseUrl, device.token);
    sockets.push(socket);
    // Far more than the rate allows, all at once: most are still arriving when the hub starts closing.
    for (let seq = 0; seq < 3000; seq++) socket.send({ type: 'telemetry', seq, data: { temp: seq } });
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    await sleep(600); // the event log flushes every 250 ms
    const rateLimited = (await deviceEvents(hub, device.id)).filter((event) => event.type === 'rate_limited');
    expect(rateLimited).toHaveLength(1);
  });
});

describe('10, 11. HTTP ingest under back-pressure and outages; state during an outage', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_DEVICE_RATE_PER_SEC: '10',
      TELEHUB_DEVICE_RATE_BURST: '5',
      TELEHUB_INGEST_RETRY_MAX_MS: '2000',
      TELEHUB_INGEST_HIGH_WATER_ROWS: '200',
      TELEHUB_INGEST_LOW_WATER_ROWS: '100',
    });
  });
  afterAll(() => hub?.close());

  it('holds one device to its rate: 429 with Retry-After, and only what it accepted is stored', async () => {
    const device = await provisionDevice(hub);
    const answers = [];
    for (let n = 0; n < 40; n++) answers.push(await devicePost(hub, device, 'telemetry', { n }));
    const accepted = answers.filter((answer) => answer.status === 200).length;
    const limited = answers.filter((answer) => answer.status === 429);
    // The burst, plus what the rate refilled while the requests ran.
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeLessThan(20);
    expect(limited.length).toBe(40 - accepted);
    expect(limited[0]!.body).toMatchObject({ code: 'rate_limited', detail: expect.stringMatching(/10 messages/) });
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await countRows(hub, device.id)).toBe(accepted);
  });

  it('answers 503 with Retry-After at once while the database is down, queueing nothing; state too', async () => {
    const devices = await Promise.all(Array.from({ length: 8 }, () => provisionDevice(hub)));
    // The tokens are checked (and cached) before the outage, as for devices that were sending already.
    for (const device of devices) expect((await devicePost(hub, device, 'telemetry', { n: -1 })).status).toBe(200);
    const mqttDevice = await provisionDevice(hub);
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: mqttDevice.id,
      password: mqttDevice.token,
      reconnectPeriod: 0,
    });
    clients.push(client);

    const outage = await startDatabaseOutage(hub.database);
    // An MQTT device keeps sending: its telemetry waits in the writer, which finds the database gone.
    const heldTelemetry = pubackReason(client, 'devices/me/telemetry', '{"temp":1}');
    const heldState = pubackReason(client, 'devices/me/state', '{"fw":"2.0"}');
    await eventually(async () => (await hub.api('POST', '/api/v1/device/telemetry')).status === 503, 5000);

    let ok = 0;
    const refusals: { status: number; retryAfter: string | null; ms: number; code: string }[] = [];
    const clientsDone = devices.map(async (device, index) => {
      for (let attempt = 0; attempt < 6; attempt++) {
        const started = performance.now();
        const answer = await devicePost(hub, device, index % 2 ? 'state' : 'telemetry', { n: attempt });
        if (answer.status === 200) ok += 1;
        else {
          refusals.push({
            status: answer.status,
            retryAfter: answer.headers.get('retry-after'),
            ms: performance.now() - started,
            code: answer.body.code,
          });
        }
        await sleep(100);
      }
    });
    await Promise.all(clientsDone);
    expect(ok).toBe(0);
    expect(refusals).toHaveLength(48);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 503, code: 'unavailable', retryAfter: '2' });
      expect(refusal.ms).toBeLessThan(1000);
    }
    // Nothing from HTTP piled up behind the outage: only the MQTT device's one row waits.
    expect(hub.hub.app.get(IngestService).pendingRows).toBe(1);

    await outage.end();
    // The MQTT device was held, not failed: both messages are acknowledged once the database is back.
    expect(await heldTelemetry).toBe(0);
    expect(await heldState).toBe(0);
    expect(client.connected).toBe(true);
    expect(await countRows(hub, mqttDevice.id)).toBe(1);
    const detail = await hub.api('GET', `/api/v1/devices/${mqttDevice.id}`);
    expect(detail.body.state).toEqual({ fw: '2.0' });
    // Each HTTP device has its one row from before the outage, and no copy of what was refused.
    for (const device of devices) expect(await countRows(hub, device.id)).toBe(1);
    // HTTP works again.
    const after = await eventually(
      async () => (await devicePost(hub, devices[0]!, 'telemetry', { n: 9 })).status === 200,
    );
    expect(after).toBe(true);
  });

  it('answers 503 overloaded while the ingest backlog is above its high-water mark', async () => {
    const device = await provisionDevice(hub);
    const mqttDevice = await provisionDevice(hub);
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: mqttDevice.id,
      password: mqttDevice.token,
      reconnectPeriod: 0,
    });
    clients.push(client);
    const locker = hub.database.client.sql;
    const lock = locker.begin(async (tx) => {
      await tx`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`;
      // 300 rows wait behind the lock: above the high-water mark of 200.
      const points = Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`m${index}`, index]));
      void client.publishAsync('devices/me/telemetry', JSON.stringify(points), { qos: 1 });
      const ingest = hub.hub.app.get(IngestService);
      expect(await eventually(async () => ingest.unavailability()?.code === 'overloaded')).toBe(true);
      const overloaded = await devicePost(hub, device, 'telemetry', { temp: 1 });
      expect(overloaded?.status).toBe(503);
      expect(overloaded?.body.code).toBe('overloaded');
      expect(overloaded?.headers.get('retry-after')).toBe('1');
    });
    await lock;
    expect(await eventually(async () => (await devicePost(hub, device, 'telemetry', { temp: 2 })).status === 200)).toBe(
      true,
    );
  });
});

describe('a connection attempt to the database that hangs', () => {
  let hub: TestHub;
  let proxy: TcpProxy;
  beforeAll(async () => {
    const database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = await TcpProxy.start(Number(direct.port), direct.hostname);
    const url = new URL(database.url);
    url.port = String(proxy.port);
    hub = await startTestHub(
      { DATABASE_URL: url.toString(), TELEHUB_DB_CONNECT_TIMEOUT_MS: '1000', TELEHUB_INGEST_RETRY_MAX_MS: '500' },
      { database },
    );
  });
  afterAll(async () => {
    await hub?.close();
    await hub?.database.drop();
    await proxy?.close();
  });

  it('is given up after TELEHUB_DB_CONNECT_TIMEOUT_MS, so writes resume soon after the network heals', async () => {
    const device = await provisionDevice(hub);
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
    });
    clients.push(client);
    expect(await pubackReason(client, 'devices/me/telemetry', '{"temp":1}')).toBe(0);

    // The pool's connections drop and the new ones it opens reach nothing: their attempts hang.
    proxy.stall();
    proxy.cut();
    const held = pubackReason(client, 'devices/me/telemetry', '{"temp":2}');
    await sleep(1500);
    // The network heals for new connections; the attempts made during the partition still hang (their packets
    // were lost) until the hub gives them up. postgres.js's own default would hold them 30 s.
    proxy.resumeNewConnections();
    const healed = performance.now();
    expect(await held).toBe(0);
    expect(performance.now() - healed).toBeLessThan(10_000);
    expect(await countRows(hub, device.id)).toBe(2);
  });
});
