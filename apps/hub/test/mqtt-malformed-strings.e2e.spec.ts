import { connect as connectTcp, type Socket } from 'node:net';
import { RawMqttClient } from '@telehub/mqtt';
import { generate, type IPublishPacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRows, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const sockets: Socket[] = [];

async function connectDevice(hub: TestHub, device: ProvisionedDevice): Promise<RawMqttClient> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const opened = connectTcp(hub.hub.mqttPort!, '127.0.0.1', () => resolve(opened));
    opened.once('error', reject);
    sockets.push(opened);
  });
  const client = new RawMqttClient(socket, 5);
  client.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clientId: 'utf8',
    clean: true,
    keepalive: 30,
    username: device.id,
    password: Buffer.from(device.token),
  });
  expect(await client.next()).toMatchObject({ cmd: 'connack', reasonCode: 0 });
  return client;
}

/**
 * A QoS 1 telemetry PUBLISH, with the bytes of `replace.marker` (in its topic or a property) overwritten by
 * `replace.bytes`, as a client that does not check its strings sends them.
 */
function publishBytes(packet: Partial<IPublishPacket>, replace?: { marker: string; bytes: number[] }): Buffer {
  const encoded = generate(
    {
      cmd: 'publish',
      topic: 'devices/me/telemetry',
      payload: Buffer.from(JSON.stringify({ temp: 21.5 })),
      qos: 1,
      messageId: 7,
      dup: false,
      retain: false,
      ...packet,
    },
    { protocolVersion: 5 },
  );
  if (replace) Buffer.from(replace.bytes).copy(encoded, encoded.indexOf(replace.marker));
  return encoded;
}

describe('MQTT strings that are not well-formed UTF-8 [MQTT-1.5.4-1]', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  afterAll(() => hub?.close());

  it('a topic that is not UTF-8 gets DISCONNECT 0x81 Malformed Packet, not PUBACK 0x87', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(hub, device);
    // "devices/me/tel\xFFmetry": 0xFF never occurs in UTF-8.
    client.sendRaw(publishBytes({}, { marker: 'tele', bytes: [0x74, 0x65, 0x6c, 0xff] }));
    expect(await client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
    await client.closed;
    expect(await countRows(hub, device.id)).toBe(0);
  });

  it('a valid topic with an encoded surrogate in a user property is refused, not stored', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(hub, device);
    // U+D800 encoded as a character: well-formed UTF-8 has no surrogates.
    const properties = { userProperties: { origin: 'XYZ' } };
    client.sendRaw(publishBytes({ properties }, { marker: 'XYZ', bytes: [0xed, 0xa0, 0x80] }));
    expect(await client.next()).toMatchObject({ cmd: 'disconnect', reasonCode: 0x81 });
    await client.closed;
    expect(await countRows(hub, device.id)).toBe(0);
  });

  it('a multi-byte topic that is well-formed is served as usual', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(hub, device);
    client.sendRaw(publishBytes({ properties: { userProperties: { lieu: 'Zürich 温室 🌡' } } }));
    expect(await client.next()).toMatchObject({ cmd: 'puback', messageId: 7, reasonCode: 0 });
    expect(await countRows(hub, device.id)).toBe(1);
  });
});
