import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandReaches, createCommand, getCommand, statuses } from './support/commands.js';
import { deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { pubackReason } from './support/mqtt.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface ReceivedCommand {
  topic: string;
  body: { id: string; name: string; params: unknown; expiresAt: string };
  responseTopic?: string;
  correlationData?: string;
}

const clients: MqttClient[] = [];

async function connectDevice(hub: TestHub, device: ProvisionedDevice, options: IClientOptions = {}) {
  const client = await mqtt.connectAsync(hub.mqttUrl, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    username: device.id,
    password: device.token,
    ...options,
  });
  clients.push(client);
  const received: ReceivedCommand[] = [];
  client.on('message', (topic, payload, packet) => {
    received.push({
      topic,
      body: JSON.parse(payload.toString()),
      responseTopic: packet.properties?.responseTopic,
      correlationData: packet.properties?.correlationData?.toString(),
    });
  });
  return { client, received };
}

describe('commands over MQTT (MQTT.js)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: queued → sent → delivered → succeeded, result stored`, async () => {
      const device = await provisionDevice(hub);
      const { client, received } = await connectDevice(hub, device, { protocolVersion });
      await client.subscribeAsync(`devices/${device.id}/commands`, { qos: 1 });

      const created = await createCommand(hub, device.id, { name: 'set_interval', params: { seconds: 5 } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'set_interval', params: { seconds: 5 }, result: null });
      const commandId = created.body.id;

      await eventually(async () => received.length > 0);
      const [message] = received;
      expect(message?.topic).toBe(`devices/${device.id}/commands`);
      expect(message?.body).toEqual({
        id: commandId,
        name: 'set_interval',
        params: { seconds: 5 },
        expiresAt: created.body.expiresAt,
      });
      const resultTopic = `devices/${device.id}/commands/${commandId}/result`;
      if (protocolVersion === 5) {
        expect(message?.responseTopic).toBe(resultTopic);
        expect(message?.correlationData).toBe(commandId);
      } else {
        expect(message?.responseTopic).toBeUndefined();
      }
      // MQTT.js acknowledged the PUBLISH (PUBACK): the transport has it, the device has not answered yet.
      const delivered = await commandReaches(hub, device.id, commandId, 'delivered');
      expect(delivered.deliveredAt).not.toBeNull();
      expect(delivered.result).toBeNull();

      await client.publishAsync(resultTopic, JSON.stringify({ status: 'ok', result: { applied: 5 } }), { qos: 1 });
      // The PUBACK for the result means it is committed.
      const done = await getCommand(hub, device.id, commandId);
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({ applied: 5 });
      expect(statuses(done)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
      expect(done.sendCount).toBe(1);

      const events = await eventually(async () =>
        (await deviceEvents(hub, device.id)).filter((event) => event.type.startsWith('command_')),
      );
      expect(events.map((event) => event.type)).toEqual([
        'command_queued',
        'command_sent',
        'command_delivered',
        'command_succeeded',
      ]);
    });
  }

  it('stores a failed result with its error text', async () => {
    const device = await provisionDevice(hub);
    const { client, received } = await connectDevice(hub, device, { protocolVersion: 5 });
    await client.subscribeAsync('devices/me/commands', { qos: 1 });
    const created = await createCommand(hub, device.id, { name: 'open_valve' });
    await eventually(async () => received.length > 0);
    // A device subscribed with the `me` alias gets its commands on that exact topic.
    expect(received[0]?.topic).toBe('devices/me/commands');
    await client.publishAsync(
      received[0]!.responseTopic!,
      JSON.stringify({ status: 'error', error: 'valve jammed', result: { position: 12 } }),
      { qos: 1 },
    );
    const done = await getCommand(hub, device.id, created.body.id);
    expect(done).toMatchObject({ status: 'failed', error: 'valve jammed', result: { position: 12 } });
  });

  it('delivers to a device offline at creation once it subscribes, in creation order, skipping expired ones', async () => {
    const device = await provisionDevice(hub);
    const first = await createCommand(hub, device.id, { name: 'first' });
    const expiring = await createCommand(hub, device.id, { name: 'expiring', ttlSeconds: 1 });
    const second = await createCommand(hub, device.id, { name: 'second', params: { n: 2 } });
    expect((await getCommand(hub, device.id, first.body.id)).status).toBe('queued');
    await commandReaches(hub, device.id, expiring.body.id, 'expired');

    const { client, received } = await connectDevice(hub, device, { protocolVersion: 4 });
    // Nothing is sent before the device subscribes to its commands topic. The marker: an answer to a command that
    // does not exist. The hub handles a device's command steps one after another, behind any delivery to it that
    // began before, and acknowledges the answer once handled: by its PUBACK, such a delivery would have arrived.
    await client.publishAsync(`devices/${device.id}/commands/${randomUUID()}/result`, '{"status":"ok"}', { qos: 1 });
    expect(received).toEqual([]);
    expect((await getCommand(hub, device.id, first.body.id)).status).toBe('queued');
    await client.subscribeAsync(`devices/${device.id}/commands`, { qos: 1 });
    await eventually(async () => received.length >= 2);
    expect(received.map((message) => message.body.name)).toEqual(['first', 'second']);
    await commandReaches(hub, device.id, second.body.id, 'delivered');
    expect(statuses(await getCommand(hub, device.id, expiring.body.id))).toEqual(['queued', 'expired']);
  });

  it('sends a command again after a connection dropped before the device acknowledged it', async () => {
    const device = await provisionDevice(hub);
    // This device takes the PUBLISH and never acknowledges it: as if it crashed right after reading it.
    const unacknowledged: string[] = [];
    const { client } = await connectDevice(hub, device, {
      protocolVersion: 5,
      customHandleAcks: (_topic, message) => {
        unacknowledged.push(JSON.parse(message.toString()).id);
      },
    });
    await client.subscribeAsync('devices/me/commands', { qos: 1 });
    const created = await createCommand(hub, device.id, { name: 'reboot' });
    await eventually(async () => unacknowledged.length > 0);
    expect(unacknowledged).toEqual([created.body.id]);
    expect((await getCommand(hub, device.id, created.body.id)).status).toBe('sent');
    client.stream.destroy();

    const again = await connectDevice(hub, device, { protocolVersion: 5, clean: true });
    await again.client.subscribeAsync('devices/me/commands', { qos: 1 });
    await eventually(async () => again.received.length > 0);
    expect(again.received[0]?.body.id).toBe(created.body.id);
    const delivered = await commandReaches(hub, device.id, created.body.id, 'delivered');
    expect(delivered.sendCount).toBe(2);
    expect(statuses(delivered)).toEqual(['queued', 'sent', 'sent', 'delivered']);
  });

  it("refuses a result for another device's command (MQTT 5: 0x87) and for a finished one (0x80)", async () => {
    const owner = await provisionDevice(hub);
    const intruder = await provisionDevice(hub);
    const created = await createCommand(hub, owner.id, { name: 'unlock' });
    const { client } = await connectDevice(hub, intruder, { protocolVersion: 5 });
    const ok = JSON.stringify({ status: 'ok' });
    expect(await pubackReason(client, `devices/${intruder.id}/commands/${created.body.id}/result`, ok)).toBe(0x87);
    expect((await getCommand(hub, owner.id, created.body.id)).status).toBe('queued');

    const unknownTopic = 'devices/me/commands/0196a1f2-7c3e-7a00-8000-00000000beef/result';
    expect(await pubackReason(client, unknownTopic, ok)).toBe(0x80);
    const resultTopic = `devices/me/commands/${created.body.id}/result`;
    expect(await pubackReason(client, resultTopic, '{"status":"maybe"}')).toBe(0x99);

    const cancelled = await hub.api('POST', `/api/v1/devices/${owner.id}/commands/${created.body.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    const ownerClient = await connectDevice(hub, owner, { protocolVersion: 5 });
    expect(await pubackReason(ownerClient.client, resultTopic, ok)).toBe(0x80);
    expect((await getCommand(hub, owner.id, created.body.id)).status).toBe('cancelled');

    const refusals = await eventually(async () => {
      const events = await deviceEvents(hub, intruder.id);
      const refused = events.filter((event) => event.type === 'command_reply_refused');
      return refused.length >= 3 ? refused : undefined;
    });
    expect(refusals?.map((event) => event.detail.code)).toEqual([
      'not_your_command',
      'unknown_command',
      'invalid_result',
    ]);
  });

  it('MQTT 3.1.1 gets a normal PUBACK for a refused result (it has no negative ack), and the refusal is recorded', async () => {
    const owner = await provisionDevice(hub);
    const intruder = await provisionDevice(hub);
    const created = await createCommand(hub, owner.id, { name: 'unlock' });
    const { client } = await connectDevice(hub, intruder, { protocolVersion: 4 });
    await client.publishAsync(`devices/me/commands/${created.body.id}/result`, JSON.stringify({ status: 'ok' }), {
      qos: 1,
    });
    expect(client.connected).toBe(true);
    expect((await getCommand(hub, owner.id, created.body.id)).status).toBe('queued');
    const refusals = await eventually(async () =>
      (await deviceEvents(hub, intruder.id)).filter((event) => event.type === 'command_reply_refused'),
    );
    expect(refusals[0]?.detail).toMatchObject({ commandId: created.body.id, code: 'not_your_command' });
  });
});
