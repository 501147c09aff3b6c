import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientOptions,
  type DeviceTransport,
  type DisconnectInfo,
} from '@telehub/device-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  eventually,
  type ProvisionedDevice,
  provisionDevice,
} from '../../../apps/hub/test/support/devices.js';
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

async function telemetryRows(deviceId: string) {
  return hub.database.client.sql<{ metric: string; value: number; ms: number }[]>`
    SELECT metric, value, (extract(epoch FROM time) * 1000)::float8 AS ms
    FROM telemetry WHERE device_id = ${deviceId} ORDER BY time, metric`;
}

async function reportedState(deviceId: string): Promise<Record<string, unknown>> {
  const [row] = await hub.database.client.sql<{ reported_state: Record<string, unknown> }[]>`
    SELECT reported_state FROM devices WHERE id = ${deviceId}`;
  return row!.reported_state;
}

describe.each<DeviceTransport>(['mqtt', 'mqtt5', 'ws'])('device client over %s', (transport) => {
  /** The hub's address for this transport, or the proxy's in front of it. */
  function urlFor(proxy?: TcpProxy): string {
    const host = proxy ? `127.0.0.1:${proxy.port}` : undefined;
    if (transport === 'ws') return host ? `http://${host}` : hub.baseUrl;
    return host ? `mqtt://${host}` : hub.mqttUrl;
  }

  async function startProxy(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(transport === 'ws' ? hub.hub.httpPort : hub.hub.mqttPort!);
    proxies.push(proxy);
    return proxy;
  }

  function clientFor(device: ProvisionedDevice, options: Partial<DeviceClientOptions> = {}): DeviceClient {
    const client = createDeviceClient(transport, {
      deviceId: device.id,
      token: device.token,
      url: urlFor(),
      ...options,
    });
    clients.push(client);
    return client;
  }

  it('sends telemetry and state, each resolving only once the hub has committed it', async () => {
    const device = await provisionDevice(hub, `client-${transport}`);
    const client = clientFor(device);
    expect(client.transport).toBe(transport);
    await client.connect();
    expect(client.connected).toBe(true);

    await client.sendTelemetry({ temperature: 21.5, door_open: true });
    // No polling: the promise resolved on the PUBACK / ack frame, which the hub sends after the commit.
    expect((await telemetryRows(device.id)).map(({ metric, value }) => ({ metric, value }))).toEqual([
      { metric: 'door_open', value: 1 },
      { metric: 'temperature', value: 21.5 },
    ]);

    const t0 = Date.now() - 60_000;
    await client.sendTelemetry([
      { ts: t0, humidity: 40 },
      { ts: new Date(t0 + 1000).toISOString(), humidity: 41.5 },
    ]);
    const batch = (await telemetryRows(device.id)).filter((row) => row.metric === 'humidity');
    expect(batch).toEqual([
      { metric: 'humidity', value: 40, ms: t0 },
      { metric: 'humidity', value: 41.5, ms: t0 + 1000 },
    ]);

    await client.reportState({ firmware: '1.4.2', mode: 'eco' });
    await client.reportState({ mode: null });
    expect(await reportedState(device.id)).toEqual({ firmware: '1.4.2' });
  });

  it('reports what the hub refuses the way the protocol allows', async () => {
    const device = await provisionDevice(hub);
    const client = clientFor(device);
    await client.connect();
    const sent = client.sendTelemetry({ temperature: 'warm' } as never);
    if (transport === 'mqtt') {
      // MQTT 3.1.1 has no negative PUBACK: the hub acknowledges so the device does not resend forever.
      await expect(sent).resolves.toBeUndefined();
    } else if (transport === 'mqtt5') {
      await expect(sent).rejects.toMatchObject({ code: 'ERR_REJECTED', reasonCode: 0x99 });
    } else {
      await expect(sent).rejects.toMatchObject({ code: 'ERR_REJECTED', hubCode: 'invalid_payload' });
    }
    expect(await countRows(hub, device.id)).toBe(0);
    // The session goes on.
    await client.sendTelemetry({ temperature: 20 });
    expect(await countRows(hub, device.id)).toBe(1);
  });

  it('close() waits for what is in flight, then disconnects properly', async () => {
    const device = await provisionDevice(hub);
    const client = clientFor(device);
    await client.connect();
    const sends = Array.from({ length: 20 }, (_, index) => client.sendTelemetry({ n: index }));
    await client.close();
    await Promise.all(sends);
    expect(await countRows(hub, device.id, 'n')).toBe(20);
    expect(client.connected).toBe(false);
    await expect(client.sendTelemetry({ n: 99 })).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });

    // MQTT DISCONNECT / WebSocket 1000: the hub records a client disconnect, not a dropped socket.
    const detail = await eventually(async () => {
      const response = await hub.api('GET', `/api/v1/devices/${device.id}`);
      return response.body.online === false ? response.body : undefined;
    });
    expect(detail?.disconnectReason).toBe('client_disconnect');
  });

  it('refuses a token the hub does not know with ERR_UNAUTHORIZED', async () => {
    const device = await provisionDevice(hub);
    const client = clientFor({ id: device.id, token: `thd_${'A'.repeat(43)}` }, { reconnect: FAST_RECONNECT });
    await expect(client.connect()).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    expect(client.connected).toBe(false);
  });

  it('fails what was in flight when the network drops, reconnects with backoff, and sends again', async () => {
    const device = await provisionDevice(hub);
    const proxy = await startProxy();
    const client = clientFor(device, { url: urlFor(proxy), reconnect: FAST_RECONNECT });
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', (info) => events.push(`disconnected ${info.code} reconnect=${info.willReconnect}`));
    client.on('reconnecting', (info) => events.push(`reconnecting #${info.attempt}`));
    await client.connect();

    proxy.blackholeDevices();
    const inFlight = client.sendTelemetry({ lost: 1 });
    proxy.cut();
    await expect(inFlight).rejects.toMatchObject({ code: 'ERR_CONNECTION_LOST' });
    await expect(client.sendTelemetry({ lost: 2 })).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });

    await eventually(async () => client.connected, 5000);
    await client.sendTelemetry({ after: 1 });
    expect(await countRows(hub, device.id, 'after')).toBe(1);
    expect(await countRows(hub, device.id, 'lost')).toBe(0);
    expect(events).toEqual([
      'connected',
      'disconnected ERR_CONNECTION_LOST reconnect=true',
      'reconnecting #1',
      'connected',
    ]);
  });

  it('stops when another connection of the device takes over, where the protocol says so', async () => {
    const device = await provisionDevice(hub);
    // MQTT 3.1.1 is only closed on a takeover, which looks like a dropped link: no reconnect policy here,
    // or the two copies would take turns.
    const first = clientFor(device, transport === 'mqtt' ? {} : { reconnect: FAST_RECONNECT });
    await first.connect();
    const ended = new Promise<DisconnectInfo>((resolve) => first.once('disconnected', resolve));
    const second = clientFor(device);
    await second.connect();
    const info = await ended;
    if (transport === 'mqtt') expect(info).toMatchObject({ code: 'ERR_CONNECTION_LOST', willReconnect: false });
    else expect(info).toMatchObject({ code: 'ERR_SESSION_TAKEN_OVER', willReconnect: false });
    expect(first.connected).toBe(false);
    await second.sendTelemetry({ x: 1 });
    expect(await countRows(hub, device.id, 'x')).toBe(1);
  });
});

describe('device client options', () => {
  it('names every problem with its options', () => {
    expect(() =>
      createDeviceClient('mqtt5', { deviceId: '', token: '', url: 'localhost:1883', connectTimeoutMs: 0 }),
    ).toThrow(/deviceId is required; token is required; url must look like mqtt:.*connectTimeoutMs/);
    expect(() => createDeviceClient('mqtt', { deviceId: 'd', token: 't', url: 'http://localhost:8080' })).toThrow(
      /an MQTT URL is mqtt:/,
    );
    expect(() => createDeviceClient('ws', { deviceId: 'd', token: 't', url: 'mqtt://localhost:1883' })).toThrow(
      /http\(s\):\/\/ or ws\(s\):\/\//,
    );
  });
});
