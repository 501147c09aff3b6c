import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AdminClient } from './support/admin-client.js';
import { createDevice, DEVICES } from './support/api-assertions.js';
import { DeviceSocket } from './support/device-socket.js';
import { eventually } from './support/devices.js';
import { mqttFrom } from './support/from-address.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const run = promisify(execFile);
const TIMES = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The live session's details (protocol level, client id, keep-alive, remote address, hub process, since when) on
 * GET /api/v1/devices/{id} and in the admin channel's presence messages. Devices connect to one hub and are read
 * through the other: the details come from the shared database row, not from the memory of the hub holding them.
 */
describe('device session details', () => {
  let reader: TestHub;
  let holder: TestHub;
  let admin: AdminClient;
  beforeAll(async () => {
    reader = await startTestHub({ TELEHUB_NODE_ID: 'hub-reader' });
    holder = await startTestHub(
      { TELEHUB_NODE_ID: 'hub-holder', TELEHUB_EVENT_MAX_STRING_BYTES: '64', TELEHUB_LAST_SEEN_INTERVAL_MS: '100' },
      { database: reader.database, adminToken: reader.adminToken },
    );
    admin = await AdminClient.signedIn(holder.baseUrl, holder.adminToken!);
  });
  afterAll(async () => {
    admin?.ws.close();
    await holder?.close();
    await reader?.close();
  });

  const holderMqtt = () => ({
    host: '127.0.0.1',
    port: holder.hub.mqttPort!,
    wsUrl: `ws://127.0.0.1:${holder.hub.httpPort}/mqtt`,
  });
  const detail = async (id: string) => {
    const response = await reader.api('GET', `${DEVICES}/${id}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  /** The device's `session` once the reader sees it `live` (true) or ended (false). */
  const sessionBecomes = (id: string, live: boolean) =>
    eventually(async () => {
      const { session } = await detail(id);
      return session?.live === live ? session : undefined;
    }, 5000);
  /** Subscribes the admin client to the device's events: presence messages follow. */
  async function watch(deviceId: string): Promise<void> {
    admin.send({ type: 'subscribe', id: deviceId, devices: [deviceId], metrics: [] });
    await admin.next('snapshot', { id: deviceId });
  }
  const connected = (client: MqttClient) =>
    new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  const ended = (client: MqttClient) => new Promise<void>((resolve) => client.end(false, {}, () => resolve()));

  it('MQTT 3.1.1 over TCP: protocol level 4, its client id and keep-alive, its address; kept once it ends', async () => {
    const device = await createDevice(reader, { name: 'details-v4' });
    await watch(device.id);
    const client = mqttFrom('127.0.0.2', holderMqtt(), {
      protocolVersion: 4,
      clientId: 'greenhouse-7',
      keepalive: 45,
      username: device.id,
      password: device.token,
    });
    await connected(client);

    const live = await sessionBecomes(device.id, true);
    expect(live).toEqual({
      live: true,
      transport: 'mqtt',
      mqttProtocolLevel: 4,
      clientId: 'greenhouse-7',
      keepAliveSeconds: 45,
      remoteAddress: '127.0.0.2',
      node: 'hub-holder',
      connectedAt: expect.stringMatching(TIMES),
      endedAt: null,
    });
    const body = await detail(device.id);
    expect(body).toMatchObject({ online: true, status: 'connected', connectedAt: live.connectedAt });

    // The hub holding the session announces the same details live.
    const announced = await admin.next('presence', { where: (message) => message.deviceId === device.id });
    expect(announced).toMatchObject({ online: true, transport: 'mqtt', at: Date.parse(live.connectedAt) });
    expect(announced.session).toEqual({
      mqttProtocolLevel: 4,
      clientId: 'greenhouse-7',
      keepAliveSeconds: 45,
      remoteAddress: '127.0.0.2',
      node: 'hub-holder',
    });

    await ended(client);
    const last = await sessionBecomes(device.id, false);
    const after = await detail(device.id);
    // The last session's details stay, with when it ended.
    expect(last).toEqual({ ...live, live: false, endedAt: after.disconnectedAt });
    expect(after).toMatchObject({ online: false, disconnectReason: 'client_disconnect' });
  });

  it('MQTT 5 over WebSocket: protocol level 5, the client id the hub assigned, keep-alive 0', async () => {
    const device = await createDevice(reader, { name: 'details-v5' });
    await watch(device.id);
    const client = mqttFrom('127.0.0.3', holderMqtt(), {
      transport: 'ws',
      protocolVersion: 5,
      clientId: '',
      clean: true,
      keepalive: 0,
      username: device.id,
      password: device.token,
    });
    const connack = new Promise<{ properties?: { assignedClientIdentifier?: string } }>((resolve) =>
      client.once('connect', resolve),
    );
    const assigned = (await connack).properties?.assignedClientIdentifier;
    expect(assigned).toMatch(/^telehub-/);

    expect(await sessionBecomes(device.id, true)).toMatchObject({
      transport: 'mqtt-ws',
      mqttProtocolLevel: 5,
      clientId: assigned,
      keepAliveSeconds: 0,
      remoteAddress: '127.0.0.3',
      node: 'hub-holder',
    });
    const announced = await admin.next('presence', { where: (message) => message.deviceId === device.id });
    expect(announced.session).toMatchObject({ mqttProtocolLevel: 5, clientId: assigned, remoteAddress: '127.0.0.3' });
    await ended(client);
  });

  it('bounds a long client id to TELEHUB_EVENT_MAX_STRING_BYTES, saying how long it was', async () => {
    const device = await createDevice(reader, { name: 'details-long-id' });
    const clientId = `sensor-${'x'.repeat(2000)}`;
    const client = mqtt.connect(`mqtt://127.0.0.1:${holder.hub.mqttPort}`, {
      reconnectPeriod: 0,
      clientId,
      username: device.id,
      password: device.token,
    });
    await connected(client);
    const session = await sessionBecomes(device.id, true);
    expect(session.clientId).toMatch(/^sensor-x+… \(2007 bytes\)$/);
    expect(Buffer.byteLength(session.clientId)).toBeLessThanOrEqual(64);
    await ended(client);
  });

  it("the JSON WebSocket: no protocol level or client id; the keep-alive is the hub's ping interval", async () => {
    const device = await createDevice(reader, { name: 'details-ws' });
    const ws = new WebSocket(`ws://127.0.0.1:${holder.hub.httpPort}/v1/devices/ws`, {
      headers: { Authorization: `Bearer ${device.token}` },
      localAddress: '127.0.0.4',
    });
    const socket = new DeviceSocket(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(await sessionBecomes(device.id, true)).toEqual({
      live: true,
      transport: 'ws',
      mqttProtocolLevel: null,
      clientId: null,
      keepAliveSeconds: 30,
      remoteAddress: '127.0.0.4',
      node: 'hub-holder',
      connectedAt: expect.stringMatching(TIMES),
      endedAt: null,
    });
    socket.close();
    await socket.closed;
    expect(await sessionBecomes(device.id, false)).toMatchObject({ transport: 'ws', remoteAddress: '127.0.0.4' });
  });

  it("mosquitto_pub's session, once it has sent and disconnected: its last session's details", async () => {
    const device = await createDevice(reader, { name: 'details-mosquitto' });
    await run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(holder.hub.mqttPort), '-V', 'mqttv5', '-i', 'pub-loop', '-k', '30'],
      ...['-q', '1', '-u', device.id, '-P', device.token, '-t', 'devices/me/telemetry', '-m', '{"temp": 21}'],
    ]);
    expect(await sessionBecomes(device.id, false)).toMatchObject({
      transport: 'mqtt',
      mqttProtocolLevel: 5,
      clientId: 'pub-loop',
      keepAliveSeconds: 30,
      remoteAddress: '127.0.0.1',
      node: 'hub-holder',
      endedAt: expect.stringMatching(TIMES),
    });
  });

  it('an HTTP device holds no session: `session` is null while it is active', async () => {
    const device = await createDevice(reader, { name: 'details-http' });
    const sent = await holder.api('POST', '/api/v1/device/telemetry', {
      rawBody: JSON.stringify({ temp: 20.5 }),
      headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
      auth: false,
    });
    expect(sent.status).toBe(200);
    const shown = await eventually(async () => {
      const body = await detail(device.id);
      return body.lastSeenAt ? body : undefined;
    }, 5000);
    expect(shown).toMatchObject({ online: false, transport: null, session: null });
  });

  it("a new session takes over: the details are the new one's, from wherever it connects", async () => {
    const device = await createDevice(reader, { name: 'details-takeover' });
    const credentials = { username: device.id, password: device.token, reconnectPeriod: 0 };
    const first = mqttFrom('127.0.0.5', holderMqtt(), { ...credentials, protocolVersion: 4, clientId: 'first' });
    await connected(first);
    expect(await sessionBecomes(device.id, true)).toMatchObject({ clientId: 'first', remoteAddress: '127.0.0.5' });
    // The second connects to the other hub.
    const second = mqttFrom(
      '127.0.0.6',
      { host: '127.0.0.1', port: reader.hub.mqttPort! },
      { ...credentials, protocolVersion: 5, clientId: 'second', keepalive: 20 },
    );
    await connected(second);
    const taken = await eventually(async () => {
      const { session } = await detail(device.id);
      return session?.clientId === 'second' ? session : undefined;
    }, 5000);
    expect(taken).toMatchObject({
      live: true,
      mqttProtocolLevel: 5,
      keepAliveSeconds: 20,
      remoteAddress: '127.0.0.6',
      node: 'hub-reader',
    });
    await ended(second);
    first.end(true);
  });
});
