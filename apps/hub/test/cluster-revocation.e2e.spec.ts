import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, connectRefusal, disconnectOf, instanceOf, presenceRow, startHubPair } from './support/cluster.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import type { TestHub } from './support/test-hub.js';

// A change made through hub A holds on hub B within 1 s: B's live session ends and B refuses the token at once,
// although B cached the credential (TELEHUB_AUTH_CACHE_TTL_MS is a minute by default).
describe('revoking, disabling and deleting through one hub hold on the other', () => {
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

  /** A device with a live MQTT 5 session on B (so B has its credential cached). */
  async function liveOnB(): Promise<{ device: ProvisionedDevice; client: MqttClient }> {
    const device = await provisionDevice(a);
    const client = await connectMqtt(b.mqttUrl, device);
    clients.push(client);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(b));
    return { device, client };
  }

  function postTelemetry(hub: TestHub, token: string): Promise<number> {
    return hub
      .api('POST', '/api/v1/device/telemetry', {
        rawBody: JSON.stringify({ temp: 1 }),
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        auth: false,
      })
      .then((response) => response.status);
  }

  const changes: [string, (device: ProvisionedDevice) => Promise<number>, number][] = [
    [
      'revoking its token',
      async (device) => {
        const [token] = (await a.api('GET', `/api/v1/devices/${device.id}/tokens`)).body;
        return (await a.api('DELETE', `/api/v1/devices/${device.id}/tokens/${token.id}`)).status;
      },
      200,
    ],
    [
      'disabling the device',
      async (device) => (await a.api('PATCH', `/api/v1/devices/${device.id}`, { body: { disabled: true } })).status,
      200,
    ],
    ['deleting the device', async (device) => (await a.api('DELETE', `/api/v1/devices/${device.id}`)).status, 204],
  ];

  for (const [change, apply, status] of changes) {
    it(`${change} through A ends the session on B within 1 s (0x87) and B refuses the token at once`, async () => {
      const { device, client } = await liveOnB();
      expect(await postTelemetry(b, device.token)).toBe(200);
      const disconnected = disconnectOf(client);
      const before = Date.now();
      expect(await apply(device)).toBe(status);
      const answeredAt = Date.now();
      expect(await connectRefusal(b.mqttUrl, device)).toBe(0x86);
      expect(await postTelemetry(b, device.token)).toBe(401);
      const { reasonCode, at } = await disconnected;
      expect(reasonCode).toBe(0x87);
      expect(at - before).toBeLessThan(1000);
      expect(answeredAt - before).toBeLessThan(1000);
    });
  }

  it('revoking through A closes a WebSocket session on B with 4001', async () => {
    const device = await provisionDevice(a);
    const socket = await connectDeviceSocket(b.baseUrl, device.token);
    sockets.push(socket);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(b));
    const [token] = (await a.api('GET', `/api/v1/devices/${device.id}/tokens`)).body;
    const before = Date.now();
    expect((await a.api('DELETE', `/api/v1/devices/${device.id}/tokens/${token.id}`)).status).toBe(200);
    expect(await socket.closed).toEqual({ code: 4001, reason: 'token revoked' });
    expect(Date.now() - before).toBeLessThan(1000);
    await expect(connectDeviceSocket(b.baseUrl, device.token)).rejects.toThrow('HTTP 401');
  });

  it('rotating through A (the old token expires in 1 s) makes B refuse the old token once it expires', async () => {
    const device = await provisionDevice(a);
    // B caches the old token's credential, with no expiry.
    expect(await postTelemetry(b, device.token)).toBe(200);
    const rotated = await a.api('POST', `/api/v1/devices/${device.id}/tokens`, {
      body: { expireOthersInSeconds: 1 },
    });
    expect(rotated.status).toBe(201);
    const expiresAt = Date.now() + 1000;
    expect(await postTelemetry(b, rotated.body.token)).toBe(200);
    const refused = await eventually(async () => (await postTelemetry(b, device.token)) === 401, 3000);
    expect(refused).toBe(true);
    // Refused because it expired, not before.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
  });

  it('enabling through A lets the device connect to B at once', async () => {
    const device = await provisionDevice(a);
    expect((await a.api('PATCH', `/api/v1/devices/${device.id}`, { body: { disabled: true } })).status).toBe(200);
    // B caches the credential as disabled.
    expect(await postTelemetry(b, device.token)).toBe(401);
    expect((await a.api('PATCH', `/api/v1/devices/${device.id}`, { body: { disabled: false } })).status).toBe(200);
    expect(await eventually(async () => (await postTelemetry(b, device.token)) === 200, 1000)).toBe(true);
  });
});
