import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandReaches, createCommand, getCommand, statuses } from './support/commands.js';
import { DeviceSocket } from './support/device-socket.js';
import { deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('commands over the JSON WebSocket protocol (ws)', () => {
  let hub: TestHub;
  const sockets: DeviceSocket[] = [];

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(() => hub?.close());

  function connect(device: ProvisionedDevice): Promise<DeviceSocket> {
    const ws = new WebSocket(`${hub.baseUrl.replace(/^http/, 'ws')}/v1/devices/ws`, {
      headers: { Authorization: `Bearer ${device.token}` },
    });
    const socket = new DeviceSocket(ws);
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  it('queued → sent → delivered (command_ack) → succeeded (command_result), each confirmed by seq', async () => {
    const device = await provisionDevice(hub);
    const socket = await connect(device);
    const created = await createCommand(hub, device.id, { name: 'reboot', params: { delay: 1 } });
    const frame = await socket.next();
    expect(frame).toEqual({
      type: 'command',
      id: created.body.id,
      name: 'reboot',
      params: { delay: 1 },
      expiresAt: created.body.expiresAt,
    });
    expect((await getCommand(hub, device.id, frame.id)).status).toBe('sent');

    expect(await socket.request({ type: 'command_ack', id: frame.id, seq: 1 })).toEqual({ type: 'ack', seq: 1 });
    expect((await getCommand(hub, device.id, frame.id)).status).toBe('delivered');

    const answer = { type: 'command_result', id: frame.id, seq: 2, status: 'ok', result: { uptime: 0 } };
    expect(await socket.request(answer)).toEqual({ type: 'ack', seq: 2 });
    const done = await getCommand(hub, device.id, frame.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { uptime: 0 }, error: null });
    expect(statuses(done)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
  });

  it('works without seq: acknowledgements are silent, results are stored', async () => {
    const device = await provisionDevice(hub);
    const socket = await connect(device);
    const created = await createCommand(hub, device.id, { name: 'open_valve' });
    const frame = await socket.next();
    socket.send({ type: 'command_ack', id: frame.id });
    await commandReaches(hub, device.id, created.body.id, 'delivered');
    socket.send({ type: 'command_result', id: frame.id, status: 'error', error: 'no water pressure' });
    const failed = await commandReaches(hub, device.id, created.body.id, 'failed');
    expect(failed.error).toBe('no water pressure');
  });

  it('sends what was queued while the device was offline, oldest first, as it connects', async () => {
    const device = await provisionDevice(hub);
    const names = ['one', 'two', 'three'];
    for (const name of names) await createCommand(hub, device.id, { name });
    const socket = await connect(device);
    const received = [await socket.next(), await socket.next(), await socket.next()];
    expect(received.map((frame) => frame.name)).toEqual(names);
  });

  it('resends a command that was sent but not acknowledged when the connection dropped', async () => {
    const device = await provisionDevice(hub);
    const first = await connect(device);
    const created = await createCommand(hub, device.id, { name: 'reboot' });
    expect((await first.next()).id).toBe(created.body.id);
    first.ws.terminate();
    await eventually(async () => (await hub.api('GET', `/api/v1/devices/${device.id}`)).body.online === false);

    const second = await connect(device);
    const again = await second.next();
    expect(again.id).toBe(created.body.id);
    second.send({ type: 'command_ack', id: again.id });
    const delivered = await commandReaches(hub, device.id, created.body.id, 'delivered');
    expect(delivered.sendCount).toBe(2);
  });

  it('refuses answers for unknown, foreign and finished commands with error frames, and records them', async () => {
    const owner = await provisionDevice(hub);
    const intruder = await provisionDevice(hub);
    const created = await createCommand(hub, owner.id, { name: 'unlock' });
    const socket = await connect(intruder);
    const id = created.body.id;

    expect(await socket.request({ type: 'command_result', id, seq: 1, status: 'ok' })).toMatchObject({
      type: 'error',
      seq: 1,
      id,
      code: 'not_your_command',
    });
    expect(await socket.request({ type: 'command_ack', id, seq: 2 })).toMatchObject({ code: 'not_your_command' });
    const unknownId = '0196a1f2-7c3e-7a00-8000-00000000beef';
    expect(await socket.request({ type: 'command_ack', id: unknownId })).toMatchObject({
      type: 'error',
      id: unknownId,
      code: 'unknown_command',
    });
    expect(await socket.request({ type: 'command_result', id, seq: 3, status: 'done' })).toMatchObject({
      seq: 3,
      code: 'invalid_result',
    });
    expect((await getCommand(hub, owner.id, id)).status).toBe('queued');

    await hub.api('POST', `/api/v1/devices/${owner.id}/commands/${id}/cancel`);
    const ownerSocket = await connect(owner);
    expect(await ownerSocket.request({ type: 'command_result', id, seq: 1, status: 'ok' })).toMatchObject({
      code: 'command_final',
      message: expect.stringContaining('cancelled'),
    });

    const refusals = await eventually(async () => {
      const events = await deviceEvents(hub, intruder.id);
      const refused = events.filter((event) => event.type === 'command_reply_refused');
      return refused.length >= 4 ? refused : undefined;
    });
    expect(refusals?.map((event) => event.detail.code)).toEqual([
      'not_your_command',
      'not_your_command',
      'unknown_command',
      'invalid_result',
    ]);
  });
});
