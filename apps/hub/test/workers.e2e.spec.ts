import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort } from '@telehub/db';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { eventually } from './support/devices.js';

const MAIN = resolve(import.meta.dirname, '../../../dist/apps/hub/src/main.js');
const DEVICES = 6;

interface LogLine {
  msg?: string;
  workers?: number;
  node?: string;
  pid?: number;
  [key: string]: unknown;
}

/**
 * TELEHUB_WORKERS=2 as a user runs it: the built hub (`npm start`'s entry point) with no DATABASE_URL, so the
 * primary starts the embedded PostgreSQL once and two hub processes share the HTTP and MQTT ports. Devices are
 * spread over both; commands reach devices held by the other worker (through PostgreSQL, as between machines);
 * /metrics answers for both workers;
 * a worker killed with SIGKILL is started again; SIGTERM stops them all and the database, exit code 0.
 */
describe('TELEHUB_WORKERS=2: one command, all cores, one hub', () => {
  let primary: ChildProcess;
  let dataDir: string;
  let httpPort: number;
  let mqttPort: number;
  const adminToken = generateToken('admin').token;
  const logs: LogLine[] = [];
  let exited: Promise<number | null>;
  const clients: MqttClient[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-workers-'));
    // Run as root, the embedded PostgreSQL runs as the `postgres` user, which must reach its directory in here.
    await chmod(dataDir, 0o755);
    [httpPort, mqttPort] = [await findFreePort(), await findFreePort()];
    primary = spawn(process.execPath, ['--enable-source-maps', MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        TELEHUB_WORKERS: '2',
        TELEHUB_NODE_ID: 'box',
        TELEHUB_HTTP_HOST: '127.0.0.1',
        TELEHUB_HTTP_PORT: String(httpPort),
        TELEHUB_MQTT_PORT: String(mqttPort),
        TELEHUB_DATA_DIR: dataDir,
        TELEHUB_ADMIN_TOKEN: adminToken,
        TELEHUB_LOG_FORMAT: 'json',
        TELEHUB_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exited = new Promise((resolveExit) => primary.once('exit', (code) => resolveExit(code)));
    createInterface({ input: primary.stdout! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    });
    await eventually(async () => logs.some((line) => line.msg === 'telehub is ready' && line.workers === 2), 90_000);
    expect(
      logs.some((line) => line.msg === 'telehub is ready' && line.workers === 2),
      JSON.stringify(logs),
    ).toBe(true);
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    if (primary && primary.exitCode === null) primary.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('spreads devices over both workers, and commands reach each one wherever the API call landed', async () => {
    const created = await api(
      'POST',
      '/api/v1/devices/bulk',
      Array.from({ length: DEVICES }, (_, index) => ({ name: `worker-device-${index}` })),
    );
    expect(created.status).toBe(201);
    const devices = created.body as { id: string; token: string }[];
    const received = new Map<string, string[]>();
    for (const device of devices) {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        protocolVersion: 5,
        username: device.id,
        password: device.token,
        reconnectPeriod: 0,
      });
      clients.push(client);
      client.on('message', (_topic, payload) => {
        received.set(device.id, [...(received.get(device.id) ?? []), JSON.parse(payload.toString()).name]);
      });
      await client.subscribeAsync('devices/me/commands', { qos: 1 });
      await client.publishAsync('devices/me/telemetry', JSON.stringify({ temp: 20 }), { qos: 1 });
    }
    // The node of each device's session: both workers hold some (the primary hands connections out in turn).
    const nodes = await Promise.all(
      devices.map(async (device) => (await api('GET', `/api/v1/devices/${device.id}`)).body.session?.node as string),
    );
    expect(new Set(nodes)).toEqual(new Set(['box-1', 'box-2']));

    for (const device of devices) {
      expect((await api('POST', `/api/v1/devices/${device.id}/commands`, { name: 'ping' })).status).toBe(201);
    }
    await eventually(async () => devices.every((device) => received.get(device.id)?.length === 1), 10_000);
    expect(devices.map((device) => received.get(device.id))).toEqual(devices.map(() => ['ping']));
    for (const device of devices) {
      const latest = (await api('GET', `/api/v1/devices/${device.id}`)).body.latest;
      expect(latest.temp.value).toBe(20);
    }
  }, 60_000);

  it('answers /metrics for both workers: counters and gauges summed over them, on every scrape', async () => {
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      });
      expect(response.status).toBe(200);
      return response.text();
    };
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    // The devices of the test before are still connected, spread over both workers (each holds some).
    for (let scrapes = 0; scrapes < 4; scrapes++) {
      const text = await scrape();
      expect(value(text, 'telehub_connects_total{transport="mqtt"}')).toBe(DEVICES);
      expect(value(text, 'telehub_connections{transport="mqtt"}')).toBe(DEVICES);
      expect(value(text, 'telehub_messages_received_total{transport="mqtt",kind="telemetry"}')).toBe(DEVICES);
      // Info-like: one series, not one per worker.
      expect(text.split('\n').filter((line) => line.startsWith('nodejs_version_info{'))).toHaveLength(1);
    }
  }, 30_000);

  it('starts a worker again when it dies, and serves meanwhile', async () => {
    const workerPids = [
      ...new Set(logs.filter((line) => line.msg === 'telehub is ready' && !line.workers).map((line) => line.pid)),
    ];
    expect(workerPids).toHaveLength(2);
    process.kill(workerPids[0]!, 'SIGKILL');
    await eventually(async () => logs.some((line) => line.msg === 'a hub worker stopped; starting it again'), 10_000);
    const readyCount = () => logs.filter((line) => line.msg === 'telehub is ready' && !line.workers).length;
    await eventually(async () => readyCount() === 3, 30_000);
    expect(readyCount()).toBe(3);
    expect((await api('GET', '/api/v1/devices?limit=1')).status).toBe(200);
  }, 60_000);

  it('stops every worker and the database on SIGTERM, exit code 0', async () => {
    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    const pids = [...new Set(logs.map((line) => line.pid).filter((pid): pid is number => typeof pid === 'number'))];
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(fetch(`http://127.0.0.1:${httpPort}/healthz`)).rejects.toThrow();
  }, 60_000);
});
