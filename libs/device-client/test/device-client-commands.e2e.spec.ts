import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientOptions,
  type DeviceTransport,
} from '@telehub/device-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commandReaches, createCommand, getCommand } from '../../../apps/hub/test/support/commands.js';
import { eventually, type ProvisionedDevice, provisionDevice } from '../../../apps/hub/test/support/devices.js';
import { startTestHub, type TestHub } from '../../../apps/hub/test/support/test-hub.js';
import { TcpProxy } from './support/tcp-proxy.js';

const FAST_RECONNECT = { initialMs: 50, maxMs: 200 };

let hub: TestHub;
const clients: DeviceClient[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  hub = await startTestHub();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});
afterAll(() => hub?.close());

describe.each<DeviceTransport>(['mqtt', 'mqtt5', 'ws'])('commands over %s', (transport) => {
  async function connected(
    device: ProvisionedDevice,
    options: Partial<DeviceClientOptions> & { proxy?: TcpProxy } = {},
  ): Promise<DeviceClient> {
    const { proxy, ...rest } = options;
    const url = proxy
      ? `${transport === 'ws' ? 'http' : 'mqtt'}://127.0.0.1:${proxy.port}`
      : transport === 'ws'
        ? hub.baseUrl
        : hub.mqttUrl;
    const client = createDeviceClient(transport, { deviceId: device.id, token: device.token, url, ...rest });
    clients.push(client);
    await client.connect();
    return client;
  }

  async function startProxy(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(transport === 'ws' ? hub.hub.httpPort : hub.hub.mqttPort!);
    proxies.push(proxy);
    return proxy;
  }

  it('runs a command and the hub stores its result', async () => {
    const device = await provisionDevice(hub);
    const client = await connected(device);
    const answered: string[] = [];
    client.on('commandResult', (command, outcome) => answered.push(`${command.name}:${outcome.status}`));
    await client.onCommand(async (command) => ({
      status: 'ok',
      result: { ran: command.name, params: command.params },
    }));

    const created = await createCommand(hub, device.id, { name: 'set_interval', params: { seconds: 5 } });
    expect(created.status).toBe(201);
    const done = await commandReaches(hub, device.id, created.body.id, 'succeeded');
    expect(done.result).toEqual({ ran: 'set_interval', params: { seconds: 5 } });
    expect(done.transitions.map((step: { status: string }) => step.status)).toEqual([
      'queued',
      'sent',
      'delivered',
      'succeeded',
    ]);
    await eventually(async () => answered.length > 0);
    expect(answered).toEqual(['set_interval:ok']);
  });

  it('stores a failure: an error outcome, and a handler that throws', async () => {
    const device = await provisionDevice(hub);
    const client = await connected(device);
    await client.onCommand(async (command) => {
      if (command.name === 'open_valve') return { status: 'error', error: 'valve jammed', result: { position: 12 } };
      throw new Error(`cannot ${command.name}`);
    });
    const valve = await createCommand(hub, device.id, { name: 'open_valve' });
    const fly = await createCommand(hub, device.id, { name: 'fly' });
    expect(await commandReaches(hub, device.id, valve.body.id, 'failed')).toMatchObject({
      error: 'valve jammed',
      result: { position: 12 },
    });
    expect(await commandReaches(hub, device.id, fly.body.id, 'failed')).toMatchObject({ error: 'cannot fly' });
  });

  it('gets the commands queued while it was offline once it takes commands', async () => {
    const device = await provisionDevice(hub);
    const first = await createCommand(hub, device.id, { name: 'first' });
    const second = await createCommand(hub, device.id, { name: 'second' });
    const order: string[] = [];
    const client = createDeviceClient(transport, {
      deviceId: device.id,
      token: device.token,
      url: transport === 'ws' ? hub.baseUrl : hub.mqttUrl,
    });
    clients.push(client);
    // The handler is set before connecting: MQTT subscribes as part of connecting.
    await client.onCommand((command) => {
      order.push(command.name);
      return { status: 'ok' };
    });
    await client.connect();
    await commandReaches(hub, device.id, first.body.id, 'succeeded');
    await commandReaches(hub, device.id, second.body.id, 'succeeded');
    expect(order).toEqual(['first', 'second']);
  });

  it('sends a result lost with the connection again after reconnecting, without running the command again', async () => {
    const device = await provisionDevice(hub);
    const proxy = await startProxy();
    const client = await connected(device, { proxy, reconnect: FAST_RECONNECT });
    let runs = 0;
    let finished = false;
    await client.onCommand(async (command) => {
      runs += 1;
      // Once the hub knows the device has it, nothing more from the device gets through on this connection.
      await commandReaches(hub, device.id, command.id, 'delivered');
      proxy.blackholeDevices();
      finished = true;
      return { status: 'ok', result: { runs } };
    });
    const created = await createCommand(hub, device.id, { name: 'reboot' });
    await eventually(async () => finished);
    // The result went out into the black hole (a moment after the handler returned).
    await eventually(async () => (await getCommand(hub, device.id, created.body.id)).status === 'succeeded', 300);
    expect((await getCommand(hub, device.id, created.body.id)).status).toBe('delivered');
    proxy.cut();
    const done = await commandReaches(hub, device.id, created.body.id, 'succeeded');
    expect(done.result).toEqual({ runs: 1 });
    expect(runs).toBe(1);
  });

  // Over WebSocket the device acknowledges before running a command, so a lost acknowledgement means it never
  // ran: there is nothing to de-duplicate. MQTT's PUBACK is sent by the client library on receipt.
  if (transport !== 'ws') {
    it('runs a command delivered again (its acknowledgement was lost) only once, answering the copy', async () => {
      const device = await provisionDevice(hub);
      const proxy = await startProxy();
      const client = await connected(device, { proxy, reconnect: FAST_RECONNECT });
      let runs = 0;
      await client.onCommand(() => {
        runs += 1;
        return { status: 'ok', result: { runs } };
      });
      // Nothing the device sends arrives: not the PUBACK, so the hub sends the command again on the next connection.
      proxy.blackholeDevices();
      const created = await createCommand(hub, device.id, { name: 'reboot' });
      await eventually(async () => runs > 0);
      expect((await getCommand(hub, device.id, created.body.id)).status).toBe('sent');
      proxy.cut();
      const done = await commandReaches(hub, device.id, created.body.id, 'succeeded');
      expect(done.sendCount).toBe(2);
      expect(done.result).toEqual({ runs: 1 });
      expect(runs).toBe(1);
    });
  }
});
