import { connect as connectTcp, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawMqttClient } from '@telehub/mqtt';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRows, deviceEvents, eventually, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const clients: MqttClient[] = [];
const sockets: Socket[] = [];

async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

function rawSocket(hub: TestHub): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(hub.hub.mqttPort!, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

function closedWithin(socket: Socket): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
}

describe('MQTT limits and malformed input', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({
      // Short, but long enough for the other tests' CONNECTs (a token lookup) on a busy machine.
      TELEHUB_CONNECT_TIMEOUT_MS: '1000',
      TELEHUB_MAX_MESSAGE_BYTES: '4096',
      TELEHUB_DEVICE_RATE_PER_SEC: '20',
      TELEHUB_DEVICE_RATE_BURST: '5',
      TELEHUB_RATE_LIMIT_DISCONNECT_MS: '6000',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(() => hub?.close());

  it('closes a connection that sends no CONNECT within the connect timeout', async () => {
    const socket = await rawSocket(hub);
    const elapsed = await closedWithin(socket);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5000);
  });

  it('closes a session silent for 1.5 × its keep-alive [MQTT-3.1.2-24]', async () => {
    const device = await provisionDevice(hub);
    const socket = await rawSocket(hub);
    const client = new RawMqttClient(socket, 5);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'k',
      clean: true,
      keepalive: 1,
      username: device.id,
      password: Buffer.from(device.token),
    });
    expect((await client.next()).cmd).toBe('connack');
    const started = Date.now();
    const disconnect = await client.next(4000);
    expect(disconnect).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8d });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
  });

  it('refuses an oversize publish with DISCONNECT 0x95 and advertises the maximum in CONNACK', async () => {
    const device = await provisionDevice(hub);
    const client = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const disconnect = new Promise<{ reasonCode?: number }>((resolve) => client.once('disconnect', resolve));
    client.publish('devices/me/telemetry', JSON.stringify({ blob: 'x'.repeat(5000) }), { qos: 1 });
    expect((await disconnect).reasonCode).toBe(0x95);
    expect(await countRows(hub, device.id)).toBe(0);
  });

  it('closes only the connection that sends malformed bytes while another device keeps publishing', async () => {
    const healthy = await provisionDevice(hub);
    const steady = await connect(hub.mqttUrl, { protocolVersion: 4, username: healthy.id, password: healthy.token });
    const broken = await provisionDevice(hub);
    const socket = await rawSocket(hub);
    const raw = new RawMqttClient(socket, 4);
    raw.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'm',
      clean: true,
      keepalive: 30,
      username: broken.id,
      password: Buffer.from(broken.token),
    });
    expect((await raw.next()).cmd).toBe('connack');

    const publishing = (async () => {
      // Within its rate (20/s here), so only the malformed connection can be the one closed.
      for (let i = 0; i < 20; i += 1) {
        await steady.publishAsync('devices/me/telemetry', JSON.stringify({ n: i }), { qos: 1 });
        await sleep(60);
      }
    })();
    // A PUBLISH whose remaining length claims more bytes than the varint allows: malformed.
    raw.sendRaw([0x32, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    await raw.closed;
    await publishing;
    expect(await countRows(hub, healthy.id, 'n')).toBe(20);
    expect(steady.connected).toBe(true);
  });

  it('slows a device that exceeds its message rate, without losing messages, then disconnects it with 0x96', async () => {
    const device = await provisionDevice(hub);
    const client = await connect(hub.mqttUrl, { protocolVersion: 5, username: device.id, password: device.token });
    const started = Date.now();
    // Burst 5 then 20/s: 25 acknowledged messages need about a second.
    await Promise.all(
      Array.from({ length: 25 }, (_, n) =>
        client.publishAsync('devices/me/telemetry', JSON.stringify({ n }), { qos: 1 }),
      ),
    );
    expect(Date.now() - started).toBeGreaterThan(800);
    expect(await countRows(hub, device.id)).toBe(25);

    const disconnect = new Promise<{ reasonCode?: number }>((resolve) => client.once('disconnect', resolve));
    const flood = setInterval(() => client.publish('devices/me/telemetry', '{"x":1}', { qos: 0 }), 5);
    try {
      expect((await disconnect).reasonCode).toBe(0x96);
    } finally {
      clearInterval(flood);
    }
    const events = await eventually(async () =>
      (await deviceEvents(hub, device.id)).filter((e) => e.type === 'rate_limited'),
    );
    expect(events.length).toBeGreaterThan(0);
  });
});
