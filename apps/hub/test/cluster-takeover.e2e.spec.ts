import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, disconnectOf, instanceOf, presenceRow, startHubPair } from './support/cluster.js';
import { commandReaches, createCommand } from './support/commands.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { eventually, provisionDevice } from './support/devices.js';
import type { TestHub } from './support/test-hub.js';

// Two hub processes' worth of hub (each its own Nest app, pool, LISTEN connection and lease) on one database.
describe('one live session per device across two hubs', () => {
  let a: TestHub;
  let b: TestHub;
  const clients: MqttClient[] = [];
  const sockets: DeviceSocket[] = [];

  let pair: Awaited<ReturnType<typeof startHubPair>> | undefined;

  beforeAll(async () => {
    pair = await startHubPair();
    ({ a, b } = pair);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(() => pair?.close());

  async function mqttOn(hub: TestHub, device: { id: string; token: string }): Promise<MqttClient> {
    const client = await connectMqtt(hub.mqttUrl, device);
    clients.push(client);
    return client;
  }

  it('MQTT: a connect on B takes over the session on A within 1 s (DISCONNECT 0x8E); presence follows B', async () => {
    const device = await provisionDevice(a);
    const onA = await mqttOn(a, device);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(a));
    const takenOver = disconnectOf(onA);
    const connectedAt = Date.now();
    const onB = await mqttOn(b, device);
    const { reasonCode, at } = await takenOver;
    expect(reasonCode).toBe(0x8e);
    expect(at - connectedAt).toBeLessThan(1000);
    // A's session ending did not mark the device offline: it is online on B.
    await eventually(async () => !onA.connected);
    expect(await presenceRow(a, device.id)).toMatchObject({ online: true, instance: instanceOf(b) });
    expect((await a.api('GET', `/api/v1/devices/${device.id}`)).body).toMatchObject({ online: true });

    // Commands, created through either hub, reach the owner.
    const received: string[] = [];
    onB.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).id));
    await onB.subscribeAsync('devices/me/commands', { qos: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const hub = i % 2 === 0 ? a : b;
      ids.push((await createCommand(hub, device.id, { name: `step-${i}` })).body.id);
    }
    await eventually(async () => received.length >= 10);
    expect(received.sort()).toEqual([...ids].sort());
    for (const id of ids) await commandReaches(a, device.id, id, 'delivered');

    // B's session ends: the device is offline (nothing is left on A to say otherwise).
    await onB.endAsync();
    const offline = await eventually(async () => {
      const row = await presenceRow(a, device.id);
      return row.online ? undefined : row;
    });
    expect(offline).toMatchObject({ online: false, reason: 'client_disconnect' });
  });

  it('WebSocket: a connect on B closes the session on A with 4000 within 1 s; commands go to B', async () => {
    const device = await provisionDevice(a);
    const onA = await connectDeviceSocket(a.baseUrl, device.token);
    sockets.push(onA);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(a));
    const connectedAt = Date.now();
    const onB = await connectDeviceSocket(b.baseUrl, device.token);
    sockets.push(onB);
    const closed = await onA.closed;
    expect(closed).toEqual({ code: 4000, reason: 'session taken over' });
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(b));
    const created = await createCommand(a, device.id, { name: 'blink' });
    const frame = await onB.next();
    expect(frame).toMatchObject({ type: 'command', id: created.body.id, name: 'blink' });
    expect(await presenceRow(b, device.id)).toMatchObject({ online: true, instance: instanceOf(b) });
  });

  it('connects on A and B at the same moment: exactly one session survives, and it is the one on record', async () => {
    const device = await provisionDevice(a);
    for (let round = 0; round < 8; round += 1) {
      const [onA, onB] = await Promise.all([mqttOn(a, device), mqttOn(b, device)]);
      // The loser is told 0x8E; wait for it, then for the survivor to be the one on record.
      const loser = await Promise.race([
        disconnectOf(onA).then((packet) => ({ ...packet, client: onA })),
        disconnectOf(onB).then((packet) => ({ ...packet, client: onB })),
      ]);
      expect(loser.reasonCode).toBe(0x8e);
      const survivor = loser.client === onA ? onB : onA;
      const owner = survivor === onA ? instanceOf(a) : instanceOf(b);
      const row = await eventually(async () => {
        const current = await presenceRow(a, device.id);
        return current.instance === owner && current.online ? current : undefined;
      });
      expect(row, `round ${round}`).toBeDefined();
      expect(survivor.connected).toBe(true);
      // The survivor still publishes; the loser is gone.
      await survivor.publishAsync('devices/me/telemetry', JSON.stringify({ round }), { qos: 1 });
      await eventually(async () => !loser.client.connected);
      await survivor.endAsync();
      await eventually(async () => !(await presenceRow(a, device.id)).online);
    }
  });
});
