import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startHubProcess } from './support/hub-process.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface Publisher {
  acked: number;
  sent: number;
  stop(): Promise<void>;
}

/** Publishes QoS 1 messages with a window of unacknowledged ones, counting acknowledgements. */
function publishLoop(client: MqttClient, window = 10): Publisher {
  let running = true;
  const state = { acked: 0, sent: 0 };
  const worker = async () => {
    while (running) {
      state.sent += 1;
      try {
        await client.publishAsync('devices/me/telemetry', JSON.stringify({ seq: state.sent, v: Math.random() }), {
          qos: 1,
        });
        state.acked += 1;
      } catch {
        return; // connection closed: unacknowledged, may or may not have been stored
      }
    }
  };
  const workers = Array.from({ length: window }, worker);
  return {
    get acked() {
      return state.acked;
    },
    get sent() {
      return state.sent;
    },
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function rowsOf(
  database: TestDatabase,
  devices: ProvisionedDevice[],
): Promise<{ rows: number; distinct: number }> {
  const [row] = await database.client.sql<{ rows: number; distinct: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT (device_id, value))::int AS distinct
    FROM telemetry WHERE device_id = ANY(${devices.map((d) => d.id)}::uuid[]) AND metric = 'seq'`;
  return row!;
}

describe('durable ingest while the database stalls and fails', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_INGEST_RETRY_MAX_MS: '200' });
  });
  afterAll(() => hub?.close());

  it('commits exactly the acknowledged messages across a table lock and killed connections', async () => {
    const devices = await Promise.all([1, 2, 3].map((n) => provisionDevice(hub, `d${n}`)));
    const clients = await Promise.all(
      devices.map((device) =>
        mqtt.connectAsync(hub.mqttUrl, {
          protocolVersion: 5,
          username: device.id,
          password: device.token,
          reconnectPeriod: 0,
        }),
      ),
    );
    const publishers = clients.map((client) => publishLoop(client));
    await sleep(300);

    // 1. A writer blocked by an exclusive lock: devices stall, nothing is acknowledged meanwhile.
    const locker = await hub.database.client.sql.reserve();
    await locker`BEGIN`;
    await locker`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`;
    await sleep(200);
    const ackedDuringLock = publishers.reduce((sum, p) => sum + p.acked, 0);
    await sleep(800);
    expect(publishers.reduce((sum, p) => sum + p.acked, 0)).toBe(ackedDuringLock);
    await locker`COMMIT`;
    locker.release();
    await sleep(300);

    // 2. The database drops every connection of the hub: batches fail, are retried, and land once.
    await hub.database.client.sql`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()`;
    await sleep(700);

    await Promise.all(publishers.map((p) => p.stop()));
    const acked = publishers.reduce((sum, p) => sum + p.acked, 0);
    const { rows, distinct } = await rowsOf(hub.database, devices);
    expect(acked).toBeGreaterThan(100);
    expect(rows).toBe(acked);
    expect(distinct).toBe(rows);
    await Promise.all(clients.map((client) => client.endAsync()));
  });
});

describe('SIGTERM under load', () => {
  it('flushes and acknowledges everything pending, closes sessions with 0x8B and exits 0', {
    timeout: 60_000,
  }, async () => {
    const database = await createTestDatabase();
    const proc = await startHubProcess(database.url);
    try {
      const api = async (path: string, body: unknown) => {
        const response = await fetch(`http://127.0.0.1:${proc.httpPort}${path}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${proc.adminToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        return response.json() as Promise<{ id: string; token: string }>;
      };
      const devices = await Promise.all([1, 2, 3, 4].map((n) => api('/api/v1/devices', { name: `load-${n}` })));
      const clients = await Promise.all(
        devices.map((device) =>
          mqtt.connectAsync(`mqtt://127.0.0.1:${proc.mqttPort}`, {
            protocolVersion: 5,
            username: device.id,
            password: device.token,
            reconnectPeriod: 0,
          }),
        ),
      );
      const reasons: number[] = [];
      for (const client of clients) client.on('disconnect', (packet) => reasons.push(packet.reasonCode ?? -1));
      const publishers = clients.map((client) => publishLoop(client, 20));
      await sleep(1000);
      proc.child.kill('SIGTERM');
      const exitCode = await Promise.race([proc.exited, sleep(20_000).then(() => 'timeout')]);
      expect(exitCode, proc.logs.join('\n')).toBe(0);
      // Messages in flight when the sessions closed were never acknowledged; end the clients to settle them.
      for (const client of clients) client.end(true);
      await Promise.all(publishers.map((p) => p.stop()));

      const acked = publishers.reduce((sum, p) => sum + p.acked, 0);
      const sent = publishers.reduce((sum, p) => sum + p.sent, 0);
      const { rows, distinct } = await rowsOf(database, devices);
      expect(acked).toBeGreaterThan(100);
      expect(rows).toBeGreaterThanOrEqual(acked);
      expect(rows).toBeLessThanOrEqual(sent);
      expect(distinct).toBe(rows);
      expect(reasons).toEqual([0x8b, 0x8b, 0x8b, 0x8b]);
    } finally {
      proc.child.kill('SIGKILL');
      await database.drop();
    }
  });
});
