import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultHttpMaxConnections,
  defaultMaxConnections,
  RESERVED_FILE_DESCRIPTORS,
} from '../src/config/open-files-limit.js';
import { eventually } from './support/devices.js';
import { type HubProcess, startHubProcess } from './support/hub-process.js';

/**
 * The descriptor budget as a container gives it (`ulimits: nofile`), on the built hub: with no connection limit
 * set, the device and HTTP caps follow the open-files limit, so a flood of either kind of client is held to its
 * share and the other kind, the API and the database pool still get descriptors. Without the shares, a flood of one
 * kind would take every descriptor (EMFILE).
 */
// 1024: the usual soft limit of a login shell. (Under 512 the hub does not start at all: Node's module loader
// opens its files many at a time and reports the EMFILE as ERR_MODULE_NOT_FOUND.)
const OPEN_FILES = 1024;
const HTTP_SHARE = defaultHttpMaxConnections(256, OPEN_FILES);
const DEVICE_SHARE = defaultMaxConnections(20_000, OPEN_FILES, HTTP_SHARE);
/** More connections of one kind than the process may open at all. */
const FLOOD = OPEN_FILES + 100;
/** Long enough that no flood socket is timed out while a test runs. */
const IDLE_TIMEOUT_MS = 30_000;
/** A connection idle this long may be closed for a newcomer when the HTTP port is full (a tenth of the header timeout). */
const EVICTION_GRACE_MS = IDLE_TIMEOUT_MS / 10;

/** `count` connections to `port` that send `bytes` (or nothing) and then wait; `open()` counts those still open. */
async function flood(port: number, count: number, bytes?: string): Promise<{ open(): number; end(): void }> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.on('error', () => undefined);
          // Refused or closed at once: it still counts as an attempt, and shows as closed.
          socket.once('connect', () => resolve(socket));
          socket.once('close', () => resolve(socket));
          if (bytes) socket.write(bytes);
        }),
    ),
  );
  return {
    open: () => sockets.filter((socket) => !socket.closed).length,
    end: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Waits until the hub has closed what it will not hold: the count of open connections stays the same for 500 ms. */
async function settled(started: { open(): number }): Promise<number> {
  let count = started.open();
  for (let waited = 0; waited < 10_000; waited += 500) {
    await sleep(500);
    if (started.open() === count) return count;
    count = started.open();
  }
  return count;
}

describe(`the built hub under an open-files limit of ${OPEN_FILES} (${HTTP_SHARE} HTTP connections, ${DEVICE_SHARE} device connections by default)`, {
  timeout: 60_000,
}, () => {
  let database: TestDatabase;
  let hub: HubProcess;
  const floods: { end(): void }[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${hub.httpPort}${path}`, {
      method,
      headers: { Authorization: `Bearer ${hub.adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };
  const startFlood = async (port: number, bytes?: string) => {
    const started = await flood(port, FLOOD, bytes);
    floods.push(started);
    return started;
  };
  /** Provisions ten devices at once: each needs a pool connection, new ones opened during the flood. */
  const provisionTen = async (prefix: string) =>
    Promise.all(Array.from({ length: 10 }, (_, n) => api('POST', '/api/v1/devices', { name: `${prefix}-${n}` })));
  /** An MQTT 5 connection of `device`; rejects when the hub closes it before CONNACK (mqtt.js would wait). */
  const connectDevice = (device: { id: string; token: string }) =>
    new Promise<MqttClient>((resolve, reject) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${hub.mqttPort}`, {
        protocolVersion: 5,
        username: device.id,
        password: device.token,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      client.once('connect', () => resolve(client));
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });

  beforeAll(async () => {
    expect(DEVICE_SHARE + HTTP_SHARE + RESERVED_FILE_DESCRIPTORS).toBe(OPEN_FILES);
    expect(FLOOD).toBeGreaterThan(DEVICE_SHARE);
    database = await createTestDatabase();
    hub = await startHubProcess(
      database.url,
      {
        TELEHUB_CONNECT_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        TELEHUB_HTTP_HEADERS_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        TELEHUB_HTTP_REQUEST_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      },
      45_000,
      { openFilesLimit: OPEN_FILES },
    );
    // The hub starting on a busy machine (45 s at most) and the database before it.
  }, 90_000);
  afterEach(() => {
    for (const started of floods.splice(0)) started.end();
  });
  afterAll(async () => {
    if (hub) {
      hub.child.kill('SIGTERM');
      expect(await hub.exited).toBe(0);
      expect(hub.logs.filter((line) => /EMFILE|too many open files/i.test(line))).toEqual([]);
    }
    await database?.drop();
  });

  it(`holds ${DEVICE_SHARE} of ${FLOOD} MQTT connections that never send CONNECT; the API and the database pool keep working, a device over the share is refused`, async () => {
    const device = (await api('POST', '/api/v1/devices', { name: 'after-device-flood' })).body;
    const devices = await startFlood(hub.mqttPort!);
    const held = await settled(devices);

    expect((await provisionTen('during-device-flood')).map((answer) => answer.status)).toEqual(Array(10).fill(201));
    expect((await api('GET', '/readyz')).status).toBe(200);
    await expect(connectDevice(device)).rejects.toThrow();
    expect(held).toBe(DEVICE_SHARE);

    // Once the flood is gone, the device gets in.
    devices.end();
    const client = await eventually(() => connectDevice(device).catch(() => undefined), 5_000);
    expect(client?.connected).toBe(true);
    await client?.endAsync();
  });

  it(`holds ${HTTP_SHARE} of ${FLOOD} HTTP connections that never finish their headers; devices connect and publish, the API answers`, async () => {
    const device = (await api('POST', '/api/v1/devices', { name: 'during-http-flood' })).body;
    const slowloris = await startFlood(hub.httpPort, 'GET /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const held = await settled(slowloris);

    const client = await connectDevice(device);
    try {
      await client.publishAsync(`devices/${device.id}/telemetry`, JSON.stringify({ temp: 21.5 }), { qos: 1 });
    } finally {
      await client.endAsync();
    }
    // The slow clients become the longest idle connections, closed one by one for the API's requests.
    await sleep(EVICTION_GRACE_MS + 500);
    expect((await api('GET', '/readyz')).status).toBe(200);
    expect((await provisionTen('during-http-flood')).map((answer) => answer.status)).toEqual(Array(10).fill(201));
    // The test's own keep-alive connections may hold a few places too.
    expect(held).toBeLessThanOrEqual(HTTP_SHARE);
    expect(held).toBeGreaterThan(HTTP_SHARE / 2);
  });

  it('keeps the database pool and the API working with both floods at once', async () => {
    const devices = await startFlood(hub.mqttPort!);
    const slowloris = await startFlood(hub.httpPort, 'GET / HTTP/1.1\r\n');
    const [heldDevices, heldHttp] = await Promise.all([settled(devices), settled(slowloris)]);
    await sleep(EVICTION_GRACE_MS + 500);

    expect((await provisionTen('during-both-floods')).map((answer) => answer.status)).toEqual(Array(10).fill(201));
    expect((await api('GET', '/readyz')).status).toBe(200);
    expect((await api('GET', '/api/v1/devices?limit=1')).status).toBe(200);
    expect(heldDevices).toBe(DEVICE_SHARE);
    expect(heldHttp).toBeLessThanOrEqual(HTTP_SHARE);
  });
});
