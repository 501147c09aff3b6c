import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMqtt, disconnectOf, instanceOf, presenceRow, startHubPair } from './support/cluster.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { deviceEvents, eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import type { TestHub } from './support/test-hub.js';

/** How far ahead the tokens of these tests expire: long enough to connect first. */
const LIFETIME_MS = 2_000;

// A device token that expires during a live session ends it on whichever hub holds it, within 1 s of the expiry
// (TELEHUB_TOKEN_EXPIRY_CHECK_INTERVAL_MS, 250 ms by default), with the codes revocation uses.
describe('a device token expiring during a live session', () => {
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

  /** A device with a second token (issued through A) that expires LIFETIME_MS from now. */
  async function deviceWithExpiringToken(): Promise<{ device: ProvisionedDevice; expiresAt: number }> {
    const { id } = await provisionDevice(a);
    const expiresAt = Date.now() + LIFETIME_MS;
    const issued = await a.api('POST', `/api/v1/devices/${id}/tokens`, {
      body: { expiresAt: new Date(expiresAt).toISOString() },
    });
    expect(issued.status).toBe(201);
    return { device: { id, token: issued.body.token }, expiresAt };
  }

  async function expectEndedForExpiry(hub: TestHub, deviceId: string): Promise<void> {
    const row = await eventually(async () => {
      const presence = await presenceRow(hub, deviceId);
      return presence.online ? undefined : presence;
    });
    expect(row).toMatchObject({ online: false, reason: 'token_expired' });
    const events = await eventually(async () =>
      (await deviceEvents(hub, deviceId)).filter((event) => event.type === 'disconnected'),
    );
    expect(events.map((event) => event.detail.reason)).toEqual(['token_expired']);
  }

  for (const [where, holder] of [
    ['on the hub that issued the token', () => a],
    ['on another hub', () => b],
  ] as const) {
    it(`ends an MQTT 5 session ${where} with DISCONNECT 0x87 within 1 s, and the token is refused after`, async () => {
      const { device, expiresAt } = await deviceWithExpiringToken();
      const hub = holder();
      const client = await connectMqtt(hub.mqttUrl, device);
      clients.push(client);
      await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(hub));
      const { reasonCode, at } = await disconnectOf(client);
      expect(reasonCode).toBe(0x87);
      expect(at).toBeGreaterThanOrEqual(expiresAt);
      expect(at - expiresAt).toBeLessThan(1000);
      await expectEndedForExpiry(a, device.id);
      await expect(connectMqtt(hub.mqttUrl, device)).rejects.toMatchObject({ code: 0x86 });
    });

    it(`closes a JSON WebSocket session ${where} with 4001 "token expired" within 1 s`, async () => {
      const { device, expiresAt } = await deviceWithExpiringToken();
      const hub = holder();
      const socket = await connectDeviceSocket(hub.baseUrl, device.token);
      sockets.push(socket);
      expect(await socket.closed).toEqual({ code: 4001, reason: 'token expired' });
      const at = Date.now();
      expect(at).toBeGreaterThanOrEqual(expiresAt);
      expect(at - expiresAt).toBeLessThan(1000);
      await expectEndedForExpiry(a, device.id);
      await expect(connectDeviceSocket(hub.baseUrl, device.token)).rejects.toThrow('HTTP 401');
    });
  }

  it('ends a session on B using a token that a rotation through A gave an expiry, once it expires', async () => {
    const device = await provisionDevice(a);
    const client = await connectMqtt(b.mqttUrl, device);
    clients.push(client);
    await eventually(async () => (await presenceRow(a, device.id)).instance === instanceOf(b));
    const rotated = await a.api('POST', `/api/v1/devices/${device.id}/tokens`, {
      body: { expireOthersInSeconds: LIFETIME_MS / 1000 },
    });
    expect(rotated.status).toBe(201);
    const expiresAt = Date.now() + LIFETIME_MS;
    const { reasonCode, at } = await disconnectOf(client);
    expect(reasonCode).toBe(0x87);
    // Not before the old token's expiry (the answer came after the expiry was set, so it lies before expiresAt).
    expect(at).toBeGreaterThanOrEqual(expiresAt - 1000);
    expect(at - expiresAt).toBeLessThan(1000);
    await expectEndedForExpiry(a, device.id);
    // The new token works on B.
    clients.push(await connectMqtt(b.mqttUrl, { id: device.id, token: rotated.body.token }));
  });

  it('leaves a session whose token does not expire alone', async () => {
    const device = await provisionDevice(a);
    const client = await connectMqtt(b.mqttUrl, device);
    clients.push(client);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(client.connected).toBe(true);
    expect((await presenceRow(a, device.id)).online).toBe(true);
  });
});
