import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createTestDatabase } from '@telehub/testing';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { commandReaches, createCommand, getCommand, statuses } from './support/commands.js';
import { eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startHubProcess } from './support/hub-process.js';
import { runMosquitto } from './support/mosquitto.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** The hub keeps sessions 10 minutes at most: 3.1.1 sessions get exactly that, MQTT 5 ones are capped to it. */
const SESSION_EXPIRY_S = 600;
const HUB_ENV = { TELEHUB_MQTT_SESSION_EXPIRY_S: String(SESSION_EXPIRY_S) };

interface ReceivedCommand {
  topic: string;
  id: string;
  messageId: number | undefined;
  dup: boolean;
}

interface DeviceClient {
  client: MqttClient;
  connack: IConnackPacket;
  received: ReceivedCommand[];
}

const clients: MqttClient[] = [];

/** MQTT.js, connected; `received` fills with the commands it acknowledged (or, with `withholdAcks`, did not). */
async function connect(
  url: string,
  device: ProvisionedDevice,
  options: IClientOptions & { withholdAcks?: boolean },
): Promise<DeviceClient> {
  const { withholdAcks, ...clientOptions } = options;
  const received: ReceivedCommand[] = [];
  const record = (topic: string, payload: Buffer, packet: { messageId?: number; dup: boolean }) =>
    received.push({ topic, id: JSON.parse(payload.toString()).id, messageId: packet.messageId, dup: packet.dup });
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    username: device.id,
    password: device.token,
    ...clientOptions,
    // A device that took the PUBLISH and never acknowledged it: as if it lost power right after reading it.
    ...(withholdAcks ? { customHandleAcks: (topic, payload, packet) => record(topic, payload, packet) } : {}),
  });
  clients.push(client);
  if (!withholdAcks) client.on('message', (topic, payload, packet) => record(topic, payload, packet));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack, received };
}

async function sessionRow(hub: Pick<TestHub, 'database'>, deviceId: string) {
  const [row] = await hub.database.client.sql<
    {
      clientId: string;
      expiryIntervalS: number;
      held: boolean;
      expiresInS: number | null;
      subscriptions: Record<string, number>;
      unacknowledged: Array<{ packetId: number; commandId: string }>;
    }[]
  >`SELECT client_id AS "clientId", expiry_interval_s AS "expiryIntervalS", connection_id IS NOT NULL AS held,
      extract(epoch FROM expires_at - now())::float8 AS "expiresInS", subscriptions, unacknowledged
    FROM mqtt_sessions WHERE device_id = ${deviceId}`;
  return row;
}

/** Waits until the device's session is kept with no connection holding it (the end is written after the close). */
async function keptAfterDisconnect(hub: TestHub, deviceId: string) {
  const row = await eventually(async () => {
    const current = await sessionRow(hub, deviceId);
    return current && !current.held ? current : undefined;
  });
  if (!row) throw new Error(`device ${deviceId} has no session waiting for its return`);
  return row;
}

const persistent = (protocolVersion: 4 | 5, clientId: string, expiry = 86_400): IClientOptions => ({
  protocolVersion,
  clientId,
  clean: false,
  ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: expiry } } : {}),
});

describe('persistent MQTT sessions', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(HUB_ENV);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: a command queued while away arrives on reconnect, without a new SUBSCRIBE`, async () => {
      const device = await provisionDevice(hub);
      const clientId = `sensor-${randomUUID()}`;
      const first = await connect(hub.mqttUrl, device, persistent(protocolVersion, clientId));
      expect(first.connack.sessionPresent).toBe(false);
      await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
      await first.client.endAsync();
      const kept = await keptAfterDisconnect(hub, device.id);
      expect(kept).toMatchObject({
        clientId,
        expiryIntervalS: SESSION_EXPIRY_S,
        subscriptions: { 'devices/me/commands': 1 },
      });
      expect(kept!.expiresInS).toBeGreaterThan(SESSION_EXPIRY_S - 30);

      const created = await createCommand(hub, device.id, { name: 'reboot' });
      expect((await getCommand(hub, device.id, created.body.id)).status).toBe('queued');

      const second = await connect(hub.mqttUrl, device, persistent(protocolVersion, clientId));
      expect(second.connack.sessionPresent).toBe(true);
      await eventually(async () => second.received.length > 0);
      expect(second.received).toEqual([
        { topic: 'devices/me/commands', id: created.body.id, messageId: expect.any(Number), dup: false },
      ]);
      const delivered = await commandReaches(hub, device.id, created.body.id, 'delivered');
      expect(statuses(delivered)).toEqual(['queued', 'sent', 'delivered']);
    });
  }

  it('MQTT 5: the CONNACK returns the capped Session Expiry Interval; a value within the cap is not repeated', async () => {
    const device = await provisionDevice(hub);
    const capped = await connect(hub.mqttUrl, device, persistent(5, `c-${randomUUID()}`, 86_400));
    expect(capped.connack.properties?.sessionExpiryInterval).toBe(SESSION_EXPIRY_S);
    await capped.client.endAsync();
    const within = await connect(hub.mqttUrl, device, persistent(5, `w-${randomUUID()}`, 60));
    expect(within.connack.properties?.sessionExpiryInterval).toBeUndefined();
    await within.client.endAsync();
    expect(await eventually(async () => (await sessionRow(hub, device.id))?.expiryIntervalS === 60)).toBe(true);
  });

  it('resends a command left unacknowledged with its packet id and DUP set [MQTT-4.4.0-1]', async () => {
    const device = await provisionDevice(hub);
    const clientId = `valve-${randomUUID()}`;
    const first = await connect(hub.mqttUrl, device, { ...persistent(5, clientId), withholdAcks: true });
    await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
    const created = await createCommand(hub, device.id, { name: 'open_valve' });
    await eventually(async () => first.received.length > 0);
    const [original] = first.received;
    expect(original).toMatchObject({ id: created.body.id, dup: false });
    await first.client.endAsync();
    const kept = await keptAfterDisconnect(hub, device.id);
    expect(kept?.unacknowledged).toEqual([{ packetId: original!.messageId, commandId: created.body.id }]);

    const second = await connect(hub.mqttUrl, device, persistent(5, clientId));
    expect(second.connack.sessionPresent).toBe(true);
    await eventually(async () => second.received.length > 0);
    expect(second.received).toEqual([
      { topic: 'devices/me/commands', id: created.body.id, messageId: original!.messageId, dup: true },
    ]);
    const delivered = await commandReaches(hub, device.id, created.body.id, 'delivered');
    expect(delivered.sendCount).toBe(2);
  });

  it('a clean start discards the session: no Session Present, no subscription, the command waits', async () => {
    const device = await provisionDevice(hub);
    const clientId = `pump-${randomUUID()}`;
    const first = await connect(hub.mqttUrl, device, persistent(4, clientId));
    await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
    await first.client.endAsync();
    await keptAfterDisconnect(hub, device.id);

    const clean = await connect(hub.mqttUrl, device, { protocolVersion: 4, clientId, clean: true });
    expect(clean.connack.sessionPresent).toBe(false);
    expect(await sessionRow(hub, device.id)).toBeUndefined();
    await clean.client.endAsync();

    const again = await connect(hub.mqttUrl, device, persistent(4, clientId));
    expect(again.connack.sessionPresent).toBe(false);
    const created = await createCommand(hub, device.id, { name: 'stop' });
    // The marker: an answer to a command that does not exist is handled in the device's turn, behind any delivery
    // begun before it; by its PUBACK, a command sent on a kept subscription would have arrived.
    await again.client.publishAsync(`devices/me/commands/${randomUUID()}/result`, '{"status":"ok"}', { qos: 1 });
    expect(again.received).toEqual([]);
    expect((await getCommand(hub, device.id, created.body.id)).status).toBe('queued');
  });

  it('a session belongs to its client id: another client id of the device starts a new one and replaces it', async () => {
    const device = await provisionDevice(hub);
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    const first = await connect(hub.mqttUrl, device, persistent(4, a));
    await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
    await first.client.endAsync();
    await keptAfterDisconnect(hub, device.id);
    const other = await connect(hub.mqttUrl, device, persistent(4, b));
    expect(other.connack.sessionPresent).toBe(false);
    await other.client.endAsync();
    expect((await keptAfterDisconnect(hub, device.id)).clientId).toBe(b);
    const back = await connect(hub.mqttUrl, device, persistent(4, a));
    expect(back.connack.sessionPresent).toBe(false);
  });

  it('deleting the device deletes its session', async () => {
    const device = await provisionDevice(hub);
    const first = await connect(hub.mqttUrl, device, persistent(4, `d-${randomUUID()}`));
    await first.client.endAsync();
    await keptAfterDisconnect(hub, device.id);
    expect((await hub.api('DELETE', `/api/v1/devices/${device.id}`)).status).toBe(204);
    expect(await sessionRow(hub, device.id)).toBeUndefined();
  });
});

describe('persistent MQTT sessions across a hub restart', () => {
  const adminToken = generateToken('admin').token;
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(HUB_ENV, { adminToken });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(async () => {
    // After a restart the hub runs on the first one's database and data directory, which it leaves to its caller.
    await hub?.close();
    await hub?.database.drop();
    if (hub) await rm(hub.dataDir, { recursive: true, force: true });
  });

  /** Stops the hub gracefully and starts another on the same database (new ports). */
  async function restart(): Promise<void> {
    const { database, dataDir } = hub;
    await hub.hub.close();
    hub = await startTestHub(HUB_ENV, { adminToken, database, dataDir });
  }

  it('MQTT.js 5: the session, its subscription and an unacknowledged command survive the restart', async () => {
    const device = await provisionDevice(hub);
    const clientId = `meter-${randomUUID()}`;
    const first = await connect(hub.mqttUrl, device, { ...persistent(5, clientId), withholdAcks: true });
    await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
    const unacknowledged = await createCommand(hub, device.id, { name: 'calibrate' });
    await eventually(async () => first.received.length > 0);
    await restart();
    const queued = await createCommand(hub, device.id, { name: 'report' });

    const second = await connect(hub.mqttUrl, device, persistent(5, clientId));
    expect(second.connack.sessionPresent).toBe(true);
    await eventually(async () => second.received.length >= 2);
    expect(second.received).toEqual([
      { topic: 'devices/me/commands', id: unacknowledged.body.id, messageId: first.received[0]!.messageId, dup: true },
      { topic: 'devices/me/commands', id: queued.body.id, messageId: expect.any(Number), dup: false },
    ]);
    await commandReaches(hub, device.id, queued.body.id, 'delivered');
  });

  for (const [label, versionArgs] of [
    ['3.1.1', []],
    ['5', ['-V', 'mqttv5', '-x', '3600']],
  ] as const) {
    it(`mosquitto_sub -c (MQTT ${label}): subscribe, leave, restart, command queued, back on another filter, the command arrives on the kept one`, async () => {
      const device = await provisionDevice(hub);
      const clientId = `mosq-${randomUUID()}`;
      const base = (port: number) => [
        ...['-h', '127.0.0.1', '-p', String(port), '-u', device.id, '-P', device.token],
        ...['-c', '-i', clientId, '-q', '1', ...versionArgs],
      ];
      // -E: exit (with DISCONNECT) once the SUBACK came.
      const subscribe = await runMosquitto('mosquitto_sub', [
        ...base(hub.hub.mqttPort!),
        '-E',
        '-t',
        'devices/me/commands',
      ]);
      expect(subscribe).toMatchObject({ code: 0, stderr: '' });
      await keptAfterDisconnect(hub, device.id);
      await restart();
      const created = await createCommand(hub, device.id, { name: 'reboot', params: { delay: 5 } });

      // mosquitto_sub always subscribes; it does so here to the device's other commands filter. The command
      // arrives on `devices/me/commands`, the filter of the kept session, which this run never subscribed to.
      const back = await runMosquitto('mosquitto_sub', [
        ...base(hub.hub.mqttPort!),
        ...['-C', '1', '-W', '10', '-v', '-t', `devices/${device.id}/commands`],
      ]);
      expect(back.code).toBe(0);
      const [topic, json] = [
        back.stdout.slice(0, back.stdout.indexOf(' ')),
        back.stdout.slice(back.stdout.indexOf(' ') + 1),
      ];
      expect(topic).toBe('devices/me/commands');
      expect(JSON.parse(json)).toMatchObject({ id: created.body.id, name: 'reboot', params: { delay: 5 } });
      await commandReaches(hub, device.id, created.body.id, 'delivered');
    });
  }
});

describe('expired MQTT sessions', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ ...HUB_ENV, TELEHUB_MQTT_SESSION_SWEEP_INTERVAL_MS: '100' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  });
  afterAll(() => hub?.close());

  it('are deleted by the sweeper, and a reconnect finds no session', async () => {
    const device = await provisionDevice(hub);
    const clientId = `short-${randomUUID()}`;
    const first = await connect(hub.mqttUrl, device, persistent(5, clientId, 1));
    await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
    await first.client.endAsync();
    await keptAfterDisconnect(hub, device.id);
    expect(await eventually(async () => (await sessionRow(hub, device.id)) === undefined, 5000)).toBe(true);
    const again = await connect(hub.mqttUrl, device, persistent(5, clientId, 1));
    expect(again.connack.sessionPresent).toBe(false);
  });
});

describe('MQTT sessions held by a hub that crashed', () => {
  it('start their expiry once that hub is declared lost, and are taken up on another hub', async () => {
    const database = await createTestDatabase();
    // Short leases and sweeps, so the loss is found (and the session released) within the test.
    const node = {
      ...HUB_ENV,
      TELEHUB_NODE_LEASE_RENEW_MS: '200',
      TELEHUB_NODE_LEASE_TTL_MS: '1000',
      TELEHUB_MQTT_SESSION_SWEEP_INTERVAL_MS: '200',
    };
    const proc = await startHubProcess(database.url, node);
    let hub: TestHub | undefined;
    try {
      const created = await fetch(`http://127.0.0.1:${proc.httpPort}/api/v1/devices`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${proc.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'crash' }),
      });
      const device = (await created.json()) as ProvisionedDevice;
      const clientId = `crash-${randomUUID()}`;
      const first = await connect(`mqtt://127.0.0.1:${proc.mqttPort}`, device, persistent(4, clientId));
      await first.client.subscribeAsync('devices/me/commands', { qos: 1 });
      proc.child.kill('SIGKILL');
      await proc.exited;
      // Its end was never written: the session is still held by a connection that is gone.
      expect(await sessionRow({ database }, device.id)).toMatchObject({ held: true, expiresInS: null });

      hub = await startTestHub(node, { database });
      const surviving = hub;
      const released = await eventually(async () => {
        const row = await sessionRow(surviving, device.id);
        return row?.held === false ? row : undefined;
      }, 10_000);
      expect(released).toMatchObject({ held: false, subscriptions: { 'devices/me/commands': 1 } });
      expect(released!.expiresInS).toBeGreaterThan(SESSION_EXPIRY_S - 30);
      const back = await connect(hub.mqttUrl, device, persistent(4, clientId));
      expect(back.connack.sessionPresent).toBe(true);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
      await hub?.close();
      await database.drop();
    }
  });
});
