import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEVICES } from './support/api-assertions.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { countRows, eventually, provisionDevice } from './support/devices.js';
import { RawHttpConnection } from './support/raw-http.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const HTTP_MAX_CONNECTIONS = 50;
const SLOWLORIS_ATTEMPTS = 80;
const HEADERS_TIMEOUT_MS = 2_000;
/** A connection idle for less than a tenth of the header timeout is not closed for a newcomer. */
const GRACE_MS = HEADERS_TIMEOUT_MS / 10;

/** A gauge or counter's value from /metrics (the first series matching `pattern`). */
async function metric(hub: TestHub, pattern: RegExp): Promise<number> {
  const line = (await hub.api('GET', '/metrics')).text.split('\n').find((text) => pattern.test(text));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe(`the HTTP port's own connection budget (TELEHUB_HTTP_MAX_CONNECTIONS ${HTTP_MAX_CONNECTIONS}) and header timeout`, () => {
  let hub: TestHub;
  const raw: RawHttpConnection[] = [];
  const mqttClients: MqttClient[] = [];
  const deviceSockets: DeviceSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_HTTP_MAX_CONNECTIONS: String(HTTP_MAX_CONNECTIONS),
      TELEHUB_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      TELEHUB_MAX_CONNECTIONS: '200',
    });
  });
  afterEach(async () => {
    for (const connection of raw.splice(0)) connection.destroy();
    for (const socket of deviceSockets.splice(0)) socket.close();
    await Promise.all(mqttClients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  async function mqttDevice(name: string): Promise<{ client: MqttClient; id: string }> {
    const device = await provisionDevice(hub, name);
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    mqttClients.push(client);
    return { client, id: device.id };
  }

  it(`holds at most ${HTTP_MAX_CONNECTIONS} of ${SLOWLORIS_ATTEMPTS} slowloris connections; devices connect and the API answers meanwhile; the header timeout ends them with 408`, async () => {
    // Provisioned first: the API is about to be busy with slow clients.
    const wsDevice = await provisionDevice(hub, 'ws-during-slowloris');
    // The test's own keep-alive connections (fetch keeps them) hold places too.
    const before = await metric(hub, /^telehub_http_connections /);

    for (let n = 0; n < SLOWLORIS_ATTEMPTS; n += 1) {
      const connection = await RawHttpConnection.open(hub.hub.httpPort);
      // Headers begun, never finished.
      connection.write(`GET ${DEVICES} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
      raw.push(connection);
    }
    const open = () => raw.filter((connection) => !connection.isClosed).length;
    expect(await eventually(async () => open() <= HTTP_MAX_CONNECTIONS, 5_000)).toBe(true);
    expect(open()).toBeGreaterThanOrEqual(HTTP_MAX_CONNECTIONS - before);
    // Closed without an answer (they never sent a request): the longest idle for a newcomer, or the newcomer
    // itself while all the others had been idle for less than the grace.
    expect(raw.some((connection) => connection.hasResponse)).toBe(false);
    // Idle for longer than the grace now: a newcomer takes the place of the longest idle.
    await sleep(GRACE_MS);
    const dropped =
      (await metric(hub, /^telehub_http_connections_dropped_total\{reason="evicted"\}/)) +
      (await metric(hub, /^telehub_http_connections_dropped_total\{reason="full"\}/));
    expect(dropped).toBeGreaterThanOrEqual(SLOWLORIS_ATTEMPTS + before - HTTP_MAX_CONNECTIONS);
    expect(await metric(hub, /^telehub_http_connections /)).toBeLessThanOrEqual(HTTP_MAX_CONNECTIONS);

    // A new client gets in, in place of a slow one.
    const newcomer = await RawHttpConnection.open(hub.hub.httpPort);
    raw.push(newcomer);
    newcomer.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await newcomer.nextResponse()).status).toBe(200);
    newcomer.destroy();

    // MQTT devices are on their own budget.
    const { client, id } = await mqttDevice('mqtt-during-slowloris');
    await client.publishAsync('devices/me/telemetry', '{"temp": 21.5}', { qos: 1 });
    expect(await countRows(hub, id)).toBe(1);
    // The API answers.
    const list = await hub.api('GET', `${DEVICES}?limit=1`);
    expect(list.status).toBe(200);
    // A device WebSocket arrives on the HTTP port too, and is not turned away.
    const socket = await connectDeviceSocket(hub.baseUrl, wsDevice.token);
    deviceSockets.push(socket);
    expect(await socket.request({ type: 'telemetry', seq: 1, data: { temp: 1 } })).toMatchObject({
      type: 'ack',
      seq: 1,
    });

    expect(await metric(hub, /^telehub_http_connections /)).toBeLessThanOrEqual(HTTP_MAX_CONNECTIONS);

    // After the header timeout every slow connection is closed, with a 408 naming the setting.
    expect(await eventually(async () => open() === 0, HEADERS_TIMEOUT_MS + 5_000)).toBe(true);
    const answered = raw.filter((connection) => connection.hasResponse);
    expect(answered.length).toBeGreaterThan(0);
    for (const connection of answered) {
      const response = await connection.nextResponse();
      expect(response.status).toBe(408);
      expect(response.body.code).toBe('request_timeout');
      expect(response.body.detail).toContain('TELEHUB_HTTP_HEADERS_TIMEOUT_MS');
    }
    // The device sessions outlive the HTTP timeouts.
    expect(client.connected).toBe(true);
    await client.publishAsync('devices/me/telemetry', '{"temp": 22}', { qos: 1 });
    expect(await socket.request({ type: 'telemetry', seq: 2, data: { temp: 2 } })).toMatchObject({
      type: 'ack',
      seq: 2,
    });
  });

  it(`counts device WebSockets and MQTT over WebSocket as device sessions, not against the ${HTTP_MAX_CONNECTIONS} HTTP connections`, async () => {
    const sessions = HTTP_MAX_CONNECTIONS + 10;
    const created = await hub.api('POST', `${DEVICES}/bulk`, {
      body: Array.from({ length: sessions }, (_, n) => ({ name: `over-http-port-${n}` })),
    });
    expect(created.status, created.text).toBe(201);
    const devices = created.body as { id: string; token: string }[];
    const half = sessions / 2;
    for (const device of devices.slice(0, half))
      deviceSockets.push(await connectDeviceSocket(hub.baseUrl, device.token));
    for (const device of devices.slice(half)) {
      mqttClients.push(
        await mqtt.connectAsync(hub.mqttWsUrl, {
          protocolVersion: 5,
          username: device.id,
          password: device.token,
          reconnectPeriod: 0,
        }),
      );
    }
    expect(await metric(hub, /^telehub_connections\{transport="ws"\}/)).toBe(half);
    expect(await metric(hub, /^telehub_connections\{transport="mqtt-ws"\}/)).toBe(half);
    expect(await metric(hub, /^telehub_http_connections /)).toBeLessThan(10);
    // Room for HTTP clients is untouched: the API answers, and slow clients are still let in up to the cap.
    expect((await hub.api('GET', `${DEVICES}?limit=1`)).status).toBe(200);
    for (let n = 0; n < HTTP_MAX_CONNECTIONS - 10; n += 1) {
      const connection = await RawHttpConnection.open(hub.hub.httpPort);
      connection.write('GET /healthz HTTP/1.1\r\n');
      raw.push(connection);
    }
    expect(raw.every((connection) => !connection.isClosed)).toBe(true);
    for (const socket of deviceSockets) expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });
});
