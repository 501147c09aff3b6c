import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DEVICES, validationFields } from './support/api-assertions.js';
import { eventually } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const run = promisify(execFile);

interface Entry {
  id: number;
  time: string;
  type: string;
  detail: Record<string, unknown>;
}

/** Presence is checked every 100 ms here (TELEHUB_ACTIVITY_CHECK_INTERVAL_MS), last-seen written as often. */
const FAST_PRESENCE = { TELEHUB_ACTIVITY_CHECK_INTERVAL_MS: '100', TELEHUB_LAST_SEEN_INTERVAL_MS: '100' };

// Connected (a live session) and active (heard from within the inactivity timeout) for every kind of device:
// an HTTP device, one that connects for each message (the README's mosquitto_pub loop), one that goes quiet.
describe('device presence: connected and active', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub(FAST_PRESENCE);
  });
  afterAll(() => hub?.close());

  const detail = async (id: string) => (await hub.api('GET', `${DEVICES}/${id}`)).body;
  const events = async (id: string, query = ''): Promise<Entry[]> =>
    (await hub.api('GET', `${DEVICES}/${id}/events${query}`)).body;
  const statusBecomes = (id: string, status: string, timeoutMs = 5000) =>
    eventually(async () => {
      const device = await detail(id);
      return device.status === status ? device : undefined;
    }, timeoutMs);

  function postAsDevice(path: string, token: string, body: unknown) {
    return hub.api('POST', path, {
      rawBody: JSON.stringify(body),
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      auth: false,
    });
  }

  /** One run of the README's loop body: mosquitto_pub connects, publishes at QoS 1, disconnects. */
  async function mosquittoPub(device: { id: string; token: string }, message: unknown): Promise<void> {
    const port = new URL(hub.mqttUrl).port;
    await run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', device.id, '-P', device.token],
      ...['-t', 'devices/me/telemetry', '-m', JSON.stringify(message)],
    ]);
  }

  it('shows an HTTP device active (not connected) once it sends, with an `active` event', async () => {
    const device = await createDevice(hub, { name: 'http-presence' });
    expect(await detail(device.id)).toMatchObject({ online: false, active: false, status: 'offline' });
    const sentAt = Date.now();
    expect((await postAsDevice('/api/v1/device/telemetry', device.token, { temp: 21.5 })).status).toBe(200);

    const shown = await statusBecomes(device.id, 'active');
    expect(shown).toMatchObject({ online: false, active: true, status: 'active', transport: null });
    expect(Date.parse(shown.lastSeenAt)).toBeGreaterThanOrEqual(sentAt - 5);
    const [newest] = await events(device.id);
    expect(newest).toMatchObject({ type: 'active', detail: { reason: 'seen', lastSeenAt: shown.lastSeenAt } });

    const listed = await hub.api('GET', `${DEVICES}?search=${device.id}&status=active`);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([device.id]);
    expect((await hub.api('GET', '/api/v1/fleet/summary')).body.active).toBeGreaterThanOrEqual(1);
  });

  it('counts a state report over HTTP as being heard from', async () => {
    const device = await createDevice(hub, { name: 'http-state-presence' });
    expect((await postAsDevice('/api/v1/device/state', device.token, { fw: '1.2.0' })).status).toBe(200);
    expect(await statusBecomes(device.id, 'active')).toMatchObject({ active: true, lastSeenAt: expect.any(String) });
  });

  it('keeps a device that connects for each message online, and groups its short sessions', async () => {
    const device = await createDevice(hub, { name: 'pub-loop' });
    // The first message makes the device active: its `active` event comes before the burst.
    await mosquittoPub(device, { temp: 20 });
    await statusBecomes(device.id, 'active');
    await eventually(async () => (await events(device.id)).some((entry) => entry.type === 'active'));

    for (let i = 0; i < 6; i++) {
      await mosquittoPub(device, { temp: 21 + i });
      // Between its connections the device is not connected, and still shown online: active.
      expect((await detail(device.id)).status).not.toBe('offline');
      await sleep(150);
    }
    expect(await detail(device.id)).toMatchObject({ online: false, active: true, status: 'active' });

    // Every connect and disconnect is recorded (in batches, a moment later)…
    const raw = await eventually(async () => {
      const all = await events(device.id, '?shortSessionMs=0');
      return all.filter((entry) => entry.type === 'disconnected').length === 7 ? all : [];
    });
    expect(raw.slice(0, 12).map((entry) => entry.type)).toEqual(
      Array.from({ length: 6 }, () => ['disconnected', 'connected']).flat(),
    );
    // …and read back as one entry for the burst. The first session joins it when the `active` event (dated when
    // the device was last seen, written when the hub checked) was recorded before that session's events.
    const count = raw.at(-1)!.type === 'active' ? 7 : 6;
    const oldest = raw[2 * count - 1]!;
    const [burst, ...rest] = await events(device.id);
    expect(burst).toMatchObject({
      type: 'short_sessions',
      time: raw[0]!.time,
      // Its id is its oldest event's: a page that ends with it continues after the whole burst.
      id: oldest.id,
      detail: { count, transports: ['mqtt'], from: oldest.time, to: raw[0]!.time, shortSessionMs: 10_000 },
    });
    expect(Object.values(burst!.detail.reasons as Record<string, number>).reduce((a, b) => a + b)).toBe(count);
    expect(rest).toEqual(raw.slice(2 * count));

    // Pages of one entry: the burst, then what came before it, without a repeat.
    const first = await events(device.id, '?limit=1');
    expect(first.map((entry) => entry.type)).toEqual(['short_sessions']);
    const next = await events(device.id, `?limit=10&cursor=${first[0]!.id}`);
    expect(next.map((entry) => entry.id)).toEqual(rest.map((entry) => entry.id));
  });

  it('makes a device that goes quiet inactive after its own timeout, with the reason', async () => {
    const device = await createDevice(hub, { name: 'goes-quiet' });
    const patched = await hub.api('PATCH', `${DEVICES}/${device.id}`, { body: { inactivityTimeoutSeconds: 1 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.inactivityTimeoutSeconds).toBe(1);
    expect((await postAsDevice('/api/v1/device/telemetry', device.token, { temp: 3 })).status).toBe(200);
    const active = await statusBecomes(device.id, 'active');

    const quiet = await statusBecomes(device.id, 'offline', 6000);
    expect(quiet).toMatchObject({ active: false, lastSeenAt: active.lastSeenAt });
    const [newest] = await events(device.id);
    expect(newest).toMatchObject({
      type: 'inactive',
      detail: { reason: 'inactivity_timeout', timeoutSeconds: 1, lastSeenAt: active.lastSeenAt },
    });
    // Dated when the timeout ran out, not when the hub noticed.
    expect(Date.parse(newest!.time) - Date.parse(active.lastSeenAt)).toBe(1000);
  });

  it('keeps a connected device active while its session lasts, quiet or not; inactive once it is gone', async () => {
    const device = await createDevice(hub, { name: 'quiet-session' });
    await hub.api('PATCH', `${DEVICES}/${device.id}`, { body: { inactivityTimeoutSeconds: 1 } });
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
      keepalive: 60,
    });
    try {
      await eventually(async () => {
        const shown = await detail(device.id);
        return shown.status === 'connected' && shown.active;
      });
      // Its `connected` event carries the same time and may be written after it: found by type, not position.
      expect((await events(device.id)).find((entry) => entry.type === 'active')).toMatchObject({
        type: 'active',
        detail: { reason: 'connected', transport: 'mqtt' },
      });
      await sleep(2500);
      expect(await detail(device.id)).toMatchObject({ online: true, active: true, status: 'connected' });
    } finally {
      await client.endAsync();
    }
    const gone = await statusBecomes(device.id, 'offline', 6000);
    expect(gone.active).toBe(false);
    const types = (await events(device.id)).map((entry) => entry.type);
    expect(types.slice(0, 2)).toEqual(['inactive', 'disconnected']);
  });

  it('takes a per-device timeout of 1 s to 30 days, or null for the hub default, and refuses others', async () => {
    const device = await createDevice(hub, { name: 'timeout-values' });
    const patch = (value: unknown) =>
      hub.api('PATCH', `${DEVICES}/${device.id}`, { body: { inactivityTimeoutSeconds: value } });
    expect((await patch(2_592_000)).body.inactivityTimeoutSeconds).toBe(2_592_000);
    expect((await patch(null)).body.inactivityTimeoutSeconds).toBeNull();
    for (const bad of [0, -1, 1.5, 2_592_001, '60', true]) {
      expect(validationFields(await patch(bad)), String(bad)).toEqual(['inactivityTimeoutSeconds']);
    }
  });
});

describe('device presence with two hubs on one database', () => {
  let first: TestHub;
  let second: TestHub;
  beforeAll(async () => {
    // Both check every 20 ms: their sweeps overlap all the time.
    const env = { TELEHUB_ACTIVITY_CHECK_INTERVAL_MS: '20' };
    first = await startTestHub({ ...env, TELEHUB_NODE_ID: 'hub-a' });
    second = await startTestHub(
      { ...env, TELEHUB_NODE_ID: 'hub-b' },
      { database: first.database, adminToken: first.adminToken },
    );
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('records each transition once, whichever hub finds it', async () => {
    const body = Array.from({ length: 300 }, (_, i) => ({ name: `twin-${i}`, labels: ['twins'] }));
    const created = await first.api('POST', `${DEVICES}/bulk`, { body });
    expect(created.status).toBe(201);
    const sql = first.database.client.sql;
    const countByType = async (type: string) =>
      sql<{ events: number; devices: number }[]>`
        SELECT count(*)::int AS events, count(DISTINCT e.device_id)::int AS devices
        FROM device_events e JOIN devices d ON d.id = e.device_id
        WHERE 'twins' = ANY(d.labels) AND e.type = ${type}`.then(([row]) => row!);

    await sql`UPDATE device_last_seen AS s SET last_seen_at = now()
      FROM devices AS d WHERE d.id = s.device_id AND 'twins' = ANY(d.labels)`;
    await eventually(async () => (await countByType('active')).devices === 300, 10_000);
    await sleep(200);
    expect(await countByType('active')).toEqual({ events: 300, devices: 300 });

    await sql`UPDATE device_last_seen AS s SET last_seen_at = now() - interval '1 hour'
      FROM devices AS d WHERE d.id = s.device_id AND 'twins' = ANY(d.labels)`;
    await eventually(async () => (await countByType('inactive')).devices === 300, 10_000);
    await sleep(200);
    expect(await countByType('inactive')).toEqual({ events: 300, devices: 300 });
  });
});
