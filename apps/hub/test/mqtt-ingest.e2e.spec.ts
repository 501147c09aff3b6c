import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRows, deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const clients: MqttClient[] = [];

async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  clients.push(client);
  return client;
}

function connackError(client: MqttClient): Promise<{ code?: number }> {
  return new Promise((resolve) => client.once('error', (error) => resolve(error as { code?: number })));
}

describe('MQTT ingest with MQTT.js', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  for (const protocolVersion of [4, 5] as const) {
    for (const transport of ['tcp', 'ws'] as const) {
      it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'} over ${transport}: QoS 0, 1 and 2 land in the database`, async () => {
        const device = await provisionDevice(hub);
        const client = await connect(transport === 'tcp' ? hub.mqttUrl : hub.mqttWsUrl, {
          protocolVersion,
          username: device.id,
          password: device.token,
        });
        await client.publishAsync('devices/me/telemetry', JSON.stringify({ temp: 20.5 }), { qos: 1 });
        // PUBACK means committed: the row is there the moment the promise resolves.
        expect(await countRows(hub, device.id, 'temp')).toBe(1);
        await client.publishAsync(`devices/${device.id}/telemetry`, JSON.stringify({ temp: 21, hum: 40 }), { qos: 2 });
        expect(await countRows(hub, device.id)).toBe(3);
        await client.publishAsync('devices/me/telemetry', JSON.stringify({ door: true }), { qos: 0 });
        expect(await eventually(async () => (await countRows(hub, device.id, 'door')) === 1)).toBe(true);

        const detail = await hub.api('GET', `/api/v1/devices/${device.id}`);
        expect(detail.body.online).toBe(true);
        expect(detail.body.transport).toBe(transport === 'tcp' ? 'mqtt' : 'mqtt-ws');
        expect(detail.body.latest.temp.value).toBe(21);
        expect(detail.body.latest.door.value).toBe(1);
      });
    }
  }

  it('stores a batch at the device timestamps and merges reported state', async () => {
    const device = await provisionDevice(hub);
    const client = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const base = Date.now() - 60_000;
    const batch = [
      { temp: 1, ts: base },
      { temp: 2, ts: new Date(base + 1000).toISOString() },
      { temp: 3, ts: base + 2000 },
    ];
    await client.publishAsync('devices/me/telemetry', JSON.stringify(batch), { qos: 1 });
    const rows = await hub.database.client.sql<{ ms: number; value: number }[]>`
      SELECT (extract(epoch FROM time) * 1000)::float8 AS ms, value FROM telemetry WHERE device_id = ${device.id} ORDER BY time`;
    expect(rows.map((row) => [row.ms, row.value])).toEqual([
      [base, 1],
      [base + 1000, 2],
      [base + 2000, 3],
    ]);
    await client.publishAsync('devices/me/state', JSON.stringify({ fw: '1.4.2', led: 'on' }), { qos: 1 });
    await client.publishAsync('devices/me/state', JSON.stringify({ led: 'off' }), { qos: 1 });
    const detail = await hub.api('GET', `/api/v1/devices/${device.id}`);
    expect(detail.body.state).toEqual({ fw: '1.4.2', led: 'off' });
    // Reports in flight together are still merged in the order they were sent.
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        client.publishAsync('devices/me/state', JSON.stringify({ step: n }), { qos: 1 }),
      ),
    );
    expect((await hub.api('GET', `/api/v1/devices/${device.id}`)).body.state.step).toBe(19);
    expect(detail.body.latest.temp.value).toBe(3);
  });

  it('refuses a bad token with CONNACK 0x86 (MQTT 5) and 0x05 (3.1.1), and records it', async () => {
    const device = await provisionDevice(hub);
    const v5 = mqtt.connect(hub.mqttUrl, {
      protocolVersion: 5,
      username: 'sensor',
      password: 'thd_wrong',
      reconnectPeriod: 0,
    });
    const v5Error = await connackError(v5);
    v5.end(true);
    expect(v5Error.code).toBe(0x86);
    const v4 = mqtt.connect(hub.mqttUrl, {
      protocolVersion: 4,
      username: 'sensor',
      password: 'thd_wrong',
      reconnectPeriod: 0,
    });
    const v4Error = await connackError(v4);
    v4.end(true);
    expect(v4Error.code).toBe(5);
    // Username naming another device than the token's.
    const other = await provisionDevice(hub);
    const mismatch = mqtt.connect(hub.mqttUrl, {
      protocolVersion: 5,
      username: other.id,
      password: device.token,
      reconnectPeriod: 0,
    });
    expect((await connackError(mismatch)).code).toBe(0x86);
    mismatch.end(true);
    const events = await eventually(async () =>
      (await deviceEvents(hub, device.id)).filter((e) => e.type === 'auth_failed'),
    );
    expect(events[0]?.detail.reason).toBe('username_mismatch');
  });

  it("refuses another device's topic: 0x87 on MQTT 5, disconnect on 3.1.1", async () => {
    const device = await provisionDevice(hub);
    const other = await provisionDevice(hub);
    const v5 = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const refused = await v5
      .publishAsync(`devices/${other.id}/telemetry`, '{"temp":1}', { qos: 1 })
      .catch((error: { code?: number }) => error);
    expect((refused as { code?: number }).code).toBe(0x87);
    await expect(v5.subscribeAsync(`devices/${other.id}/commands`, { qos: 1 })).rejects.toThrow(/Not authorized/);
    expect(await countRows(hub, other.id)).toBe(0);

    const v4 = await connect(hub.mqttUrl, { protocolVersion: 4, username: device.id, password: device.token });
    const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
    v4.publish('devices/me/elsewhere', '{"temp":1}', { qos: 1 });
    await closed;
  });

  it('answers an invalid payload with 0x99 on MQTT 5 and a normal PUBACK on 3.1.1, and records why', async () => {
    const device = await provisionDevice(hub);
    const v5 = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const refused = await v5
      .publishAsync('devices/me/telemetry', '{"temp":"hot"}', { qos: 1 })
      .catch((error: { code?: number }) => error);
    expect((refused as { code?: number }).code).toBe(0x99);
    const v4 = await connect(hub.mqttUrl, {
      protocolVersion: 4,
      username: device.id,
      password: device.token,
      clean: true,
    });
    await expect(v4.publishAsync('devices/me/telemetry', 'not json', { qos: 1 })).resolves.toBeDefined();
    expect(await countRows(hub, device.id)).toBe(0);
    // Both refusals are recorded; the event log writes in batches, so they may land in different flushes.
    const rejected = await eventually(async () => {
      const events = (await deviceEvents(hub, device.id)).filter((e) => e.type === 'message_rejected');
      return events.length >= 2 ? events : undefined;
    });
    expect(rejected?.map((event) => event.detail.code)).toEqual(
      expect.arrayContaining(['invalid_payload', 'invalid_json']),
    );
  });

  it('takes over: a second connection of the same device closes the first with 0x8E', async () => {
    const device = await provisionDevice(hub);
    const first = await connect(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      clientId: 'a',
    });
    const disconnected = new Promise<{ reasonCode?: number }>((resolve) => first.once('disconnect', resolve));
    const second = await connect(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      clientId: 'b',
    });
    expect((await disconnected).reasonCode).toBe(0x8e);
    await second.publishAsync('devices/me/telemetry', '{"temp":5}', { qos: 1 });
    expect(await countRows(hub, device.id)).toBe(1);
    const detail = await eventually(async () => {
      const response = await hub.api('GET', `/api/v1/devices/${device.id}`);
      return response.body.online ? response.body : undefined;
    });
    expect(detail?.online).toBe(true);
  });

  it('ends the live session at once when its token is revoked, and refuses the token afterwards', async () => {
    const device = await provisionDevice(hub);
    const client = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const disconnected = new Promise<{ reasonCode?: number }>((resolve) => client.once('disconnect', resolve));
    const [token] = (await hub.api('GET', `/api/v1/devices/${device.id}/tokens`)).body;
    expect((await hub.api('DELETE', `/api/v1/devices/${device.id}/tokens/${token.id}`)).status).toBe(200);
    expect((await disconnected).reasonCode).toBe(0x87);
    const retry = mqtt.connect(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
    });
    expect((await connackError(retry)).code).toBe(0x86);
    retry.end(true);
  });

  it('marks a device offline with the reason when it disconnects', async () => {
    const device: ProvisionedDevice = await provisionDevice(hub);
    const client = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    await client.endAsync();
    const detail = await eventually(async () => {
      const response = await hub.api('GET', `/api/v1/devices/${device.id}`);
      return response.body.online === false && response.body.disconnectReason ? response.body : undefined;
    });
    expect(detail?.disconnectReason).toBe('client_disconnect');
  });
});
