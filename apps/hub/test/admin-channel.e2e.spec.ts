import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './support/admin-client.js';
import { countRows, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('admin WebSocket channel', () => {
  let hub: TestHub;
  const admins: AdminClient[] = [];
  const devices: MqttClient[] = [];

  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS: '300', TELEHUB_DEVICE_RATE_PER_SEC: '1000' });
  });
  afterEach(async () => {
    for (const admin of admins.splice(0)) admin.close();
    await Promise.all(devices.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  async function admin(): Promise<AdminClient> {
    const client = await AdminClient.signedIn(hub.baseUrl, hub.adminToken!);
    admins.push(client);
    return client;
  }

  async function connectDevice(device: ProvisionedDevice): Promise<MqttClient> {
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      username: device.id,
      password: device.token,
    });
    devices.push(client);
    return client;
  }

  describe('authentication', () => {
    it('accepts the token as the first message and answers auth_ok', async () => {
      const client = await AdminClient.open(hub.baseUrl);
      admins.push(client);
      client.send({ type: 'auth', token: hub.adminToken });
      expect(await client.next('auth_ok')).toMatchObject({
        type: 'auth_ok',
        defaultRate: 10,
        mqttPort: Number(new URL(hub.mqttUrl).port),
      });
    });

    it('accepts the token in an Authorization header', async () => {
      const client = await AdminClient.open(hub.baseUrl, { Authorization: `Bearer ${hub.adminToken}` });
      admins.push(client);
      expect((await client.next('auth_ok')).type).toBe('auth_ok');
    });

    it('closes with 4401 on anything before auth, and does not act on it', async () => {
      const client = await AdminClient.open(hub.baseUrl);
      client.send({ type: 'subscribe', id: 's1', devices: '*', metrics: '*' });
      expect((await client.closed).code).toBe(4401);
      expect(client.messages).toEqual([]);
    });

    it('closes with 4403 on a wrong token', async () => {
      const client = await AdminClient.open(hub.baseUrl);
      client.send({ type: 'auth', token: 'tha_wrong' });
      expect((await client.closed).code).toBe(4403);
    });

    it('closes an unauthenticated connection after TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS', async () => {
      const client = await AdminClient.open(hub.baseUrl);
      const started = Date.now();
      expect((await client.closed).code).toBe(4401);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });
  });

  it('answers bad messages with an error and stays open; ping gets pong', async () => {
    const client = await admin();
    client.ws.send('not json');
    expect((await client.next('error')).code).toBe('invalid_json');
    client.send({ type: 'subscribe', id: 's9', devices: ['not-a-uuid'], metrics: '*' });
    expect(await client.next('error', { id: 's9' })).toMatchObject({ code: 'invalid_message' });
    client.send({ type: 'ping', ref: 'p1' });
    expect(await client.next('pong')).toMatchObject({ ref: 'p1', at: expect.any(Number) });
  });

  it('joins snapshot and live points without gap or duplicate while the device keeps publishing', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(device);
    const base = Date.now() - 10_000;
    let sent = 0;
    let snapshotArrived = false;
    // Each point has its own time and a value equal to its index, so gaps and duplicates show. Publishing goes
    // on until well after the snapshot, so some points are in it and some are live.
    const publishing = (async () => {
      let afterSnapshot = 0;
      while (!snapshotArrived || afterSnapshot < 60) {
        const batch = [sent, sent + 1].map((n) => ({ n, ts: base + n * 10 }));
        sent += 2;
        if (snapshotArrived) afterSnapshot += 2;
        await client.publishAsync('devices/me/telemetry', JSON.stringify(batch), { qos: 1 });
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const watcher = await admin();
    watcher.send({
      type: 'subscribe',
      id: 'live',
      devices: [device.id],
      metrics: ['n'],
      history: '-1h',
      bucket: 'raw',
    });
    const snapshot = await watcher.next('snapshot', { id: 'live' });
    snapshotArrived = true;
    await publishing;
    const total = sent;
    const history = snapshot.series.find((series) => series.metric === 'n');
    const historyValues = history?.values ?? [];
    const liveValues = () => watcher.livePoints('live', 'n').map(([, value]) => value);
    await watcher.until(
      () => (historyValues.length + liveValues().length >= total ? true : undefined),
      15_000,
      'not every point arrived',
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would come now
    expect(historyValues.length).toBeGreaterThan(0);
    expect(liveValues().length).toBeGreaterThan(0);
    // Batches may commit out of order (several are written at once), so live points are compared as a set.
    const everything = [...historyValues, ...liveValues()].sort((a, b) => a - b);
    expect(everything).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(snapshot.watermark).toBe(history?.times.at(-1));
  });

  it('coalesces live points to the subscription rate without losing any', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(device);
    const watcher = await admin();
    watcher.send({ type: 'subscribe', id: 'slow', devices: [device.id], metrics: '*', maxRate: 2 });
    await watcher.next('snapshot', { id: 'slow' });
    const started = Date.now();
    for (let index = 0; index < 100; index += 1) {
      await client.publishAsync('devices/me/telemetry', JSON.stringify({ v: index }), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await watcher.until(
      () => (watcher.livePoints('slow', 'v').length === 100 ? true : undefined),
      5000,
      'not every point arrived',
    );
    const elapsed = Date.now() - started;
    const messages = watcher.ofType('points', 'slow').length;
    // 2 per second, plus one at the start of the window.
    expect(messages).toBeLessThanOrEqual(Math.ceil(elapsed / 500) + 1);
    expect(watcher.livePoints('slow', 'v').map(([, value]) => value)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('pushes presence, state, device events and the status of commands it sends', async () => {
    const device = await provisionDevice(hub);
    const watcher = await admin();
    watcher.send({ type: 'subscribe', id: 'ev', devices: [device.id], metrics: '*' });
    await watcher.next('snapshot', { id: 'ev' });
    const client = await connectDevice(device);
    expect(await watcher.next('presence', { where: (m) => m.deviceId === device.id && m.online })).toMatchObject({
      transport: 'mqtt',
    });
    client.on('message', (_topic, payload, packet) => {
      const command = JSON.parse(payload.toString());
      const answer = JSON.stringify({ status: 'ok', result: { echoed: command.params } });
      // The test may end (and the client disconnect) before this answer is acknowledged.
      client.publishAsync(packet.properties!.responseTopic!, answer, { qos: 1 }).catch(() => undefined);
    });
    await client.subscribeAsync('devices/me/commands', { qos: 1 });
    await client.publishAsync('devices/me/state', JSON.stringify({ firmware: '2.0.0' }), { qos: 1 });
    expect(await watcher.next('state', { where: (m) => m.deviceId === device.id })).toMatchObject({
      state: { firmware: '2.0.0' },
    });
    expect(await watcher.next('device_event', { where: (m) => m.eventType === 'connected' })).toMatchObject({
      deviceId: device.id,
    });

    watcher.send({ type: 'command', ref: 'c1', deviceId: device.id, name: 'set_interval', params: { seconds: 5 } });
    const created = await watcher.next('command_created');
    expect(created).toMatchObject({ ref: 'c1', command: { name: 'set_interval', status: 'queued' } });
    const done = await watcher.next('command_status', {
      where: (m) => m.id === created.command.id && m.status === 'succeeded',
    });
    expect(done.command).toMatchObject({ result: { echoed: { seconds: 5 } } });
    const seen = watcher.ofType('command_status').filter((m) => m.id === created.command.id);
    expect(seen.map((m) => m.status)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
    // The same steps come as device events too, as they are recorded in the device's event log.
    const logged = await watcher.next('device_event', { where: (m) => m.eventType === 'command_succeeded' });
    expect(logged.detail).toMatchObject({ commandId: created.command.id, name: 'set_interval' });

    watcher.send({ type: 'command', ref: 'c2', deviceId: '0196a1f2-7c3e-7a00-8000-0000000000aa', name: 'x' });
    expect(await watcher.next('error', { id: 'c2' })).toMatchObject({ code: 'device_not_found' });
    // A reused idempotency key with another body is refused as in the REST API, not answered with the old command.
    watcher.send({ type: 'command', ref: 'k1', deviceId: device.id, name: 'blink', idempotencyKey: 'once' });
    expect(await watcher.next('command_created', { where: (m) => m.ref === 'k1' })).toMatchObject({
      command: { name: 'blink' },
    });
    watcher.send({
      type: 'command',
      ref: 'k2',
      deviceId: device.id,
      name: 'blink',
      params: { n: 2 },
      idempotencyKey: 'once',
    });
    expect(await watcher.next('error', { id: 'k2' })).toMatchObject({
      code: 'idempotency_key_reused',
      message: expect.stringContaining('params'),
    });

    await client.endAsync();
    expect(await watcher.next('presence', { where: (m) => m.deviceId === device.id && !m.online })).toMatchObject({
      reason: 'client_disconnect',
    });
  });

  it("with an empty metrics list, sends the devices' events and no telemetry", async () => {
    const device = await provisionDevice(hub);
    const watcher = await admin();
    watcher.send({ type: 'subscribe', id: 'events', devices: '*', metrics: [] });
    expect((await watcher.next('snapshot', { id: 'events' })).series).toEqual([]);
    const client = await connectDevice(device);
    await watcher.next('presence', { where: (m) => m.deviceId === device.id && m.online });
    await client.publishAsync('devices/me/telemetry', JSON.stringify({ t: 1 }), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watcher.ofType('points', 'events')).toEqual([]);
  });

  it('sends a fleet summary every second', async () => {
    const watcher = await admin();
    const first = await watcher.next('fleet', { timeoutMs: 3000 });
    expect(first).toEqual({
      type: 'fleet',
      at: expect.any(Number),
      devices: expect.any(Number),
      online: expect.any(Number),
      active: expect.any(Number),
      messagesPerSecond: expect.any(Number),
      rowsPerSecond: expect.any(Number),
    });
    await watcher.next('fleet', { where: (m) => m.at > first.at, timeoutMs: 3000 });
  });

  it('stops live points after unsubscribe', async () => {
    const device = await provisionDevice(hub);
    const client = await connectDevice(device);
    const watcher = await admin();
    watcher.send({ type: 'subscribe', id: 'u', devices: [device.id], metrics: '*' });
    await watcher.next('snapshot', { id: 'u' });
    await client.publishAsync('devices/me/telemetry', JSON.stringify({ a: 1 }), { qos: 1 });
    await watcher.next('points', { id: 'u' });
    watcher.send({ type: 'unsubscribe', id: 'u' });
    await watcher.next('unsubscribed', { id: 'u' });
    await client.publishAsync('devices/me/telemetry', JSON.stringify({ a: 2 }), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watcher.livePoints('u', 'a').map(([, value]) => value)).toEqual([1]);
  });
});

describe('admin WebSocket channel: the fleet summary', () => {
  it("counts the fleet's devices, those online, and the messages and rows this hub committed per second", async () => {
    const hub = await startTestHub();
    try {
      const [sender] = [await provisionDevice(hub, 'sender'), await provisionDevice(hub, 'never-connected')];
      const client = await mqtt.connectAsync(hub.mqttUrl, {
        reconnectPeriod: 0,
        username: sender!.id,
        password: sender!.token,
      });
      const watcher = await AdminClient.signedIn(hub.baseUrl, hub.adminToken!);
      try {
        // 4 messages of 3 points: 4 messages, 12 rows (each acknowledged once committed).
        for (let n = 0; n < 4; n += 1) {
          await client.publishAsync('devices/me/telemetry', JSON.stringify({ a: n, b: n, c: n }), { qos: 1 });
        }
        // Rates count complete seconds: a summary from after the second of the last commit has them all (the
        // margin covers the moment between reading the rates and stamping `at`). Presence is written
        // asynchronously.
        const secondEnded = (Math.floor(Date.now() / 1000) + 1) * 1000 + 100;
        const summary = await watcher.next('fleet', {
          where: (m) => m.at >= secondEnded && m.online === 1,
          timeoutMs: 5000,
        });
        expect(summary).toMatchObject({ devices: 2, online: 1 });
        // Both rates divide by the same number of seconds (those since the hub started, at most 60).
        const seconds = 4 / summary.messagesPerSecond;
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThanOrEqual(60);
        expect(Math.abs(seconds - Math.round(seconds))).toBeLessThan(1e-9);
        expect(summary.rowsPerSecond * seconds).toBeCloseTo(12, 9);
      } finally {
        watcher.close();
        await client.endAsync();
      }
    } finally {
      await hub.close();
    }
  });
});

describe('admin WebSocket channel: a client that reads too slowly', () => {
  it('is told how many points were dropped in favour of the newest, and ingest is not slowed', async () => {
    const hub = await startTestHub({
      TELEHUB_ADMIN_WS_MAX_BUFFER_BYTES: '65536',
      TELEHUB_HISTORY_MAX_POINTS: '1000000',
      TELEHUB_DEVICE_RATE_PER_SEC: '10000',
    });
    try {
      const device = await provisionDevice(hub);
      // A long history, so the snapshot alone is more than the kernel's socket buffers hold.
      await hub.database.client.sql`
        INSERT INTO telemetry (time, device_id, metric, value)
        SELECT now() - interval '50 minutes' + n * interval '5 ms', ${device.id}, 'h', n FROM generate_series(1, 300000) n`;
      const client = await mqtt.connectAsync(hub.mqttUrl, {
        reconnectPeriod: 0,
        username: device.id,
        password: device.token,
      });
      const slow = await AdminClient.signedIn(hub.baseUrl, hub.adminToken!);
      const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      // Stop reading, then ask for the big snapshot: what the hub sends piles up on its side.
      socket.pause();
      slow.send({ type: 'subscribe', id: 'lag', devices: [device.id], metrics: '*', history: '-1h', bucket: 'raw' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const total = 2000;
      for (let sent = 0; sent < total; sent += 50) {
        const batch = Array.from({ length: 50 }, (_, index) => ({ v: sent + index }));
        await client.publishAsync('devices/me/telemetry', JSON.stringify(batch), { qos: 1 });
      }
      // Every message was acknowledged, so committed: the stalled admin did not hold ingest back.
      expect(await countRows(hub, device.id, 'v')).toBe(total);
      socket.resume();
      const snapshot = await slow.next('snapshot', { id: 'lag', timeoutMs: 15_000 });
      expect(snapshot.series.find((series) => series.metric === 'h')?.times.length).toBe(300_000);
      await slow.until(
        () => (slow.livePoints('lag', 'v').some(([, value]) => value === total - 1) ? true : undefined),
        10_000,
        'the newest point did not arrive',
      );
      const dropped = slow.ofType('lagged', 'lag').reduce((sum, message) => sum + message.dropped, 0);
      expect(dropped).toBeGreaterThan(0);
      const received = slow.livePoints('lag', 'v').length;
      expect(received + dropped).toBe(total);
      slow.close();
      await client.endAsync();
    } finally {
      await hub.close();
    }
  });
});
