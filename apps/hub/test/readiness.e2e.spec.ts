import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../../libs/device-client/test/support/tcp-proxy.js';
import { provisionDevice } from './support/devices.js';
import { type ApiResponse, startTestHub, type TestHub } from './support/test-hub.js';

/** The default of TELEHUB_READY_TIMEOUT_MS, which these tests leave unset. */
const READY_TIMEOUT_MS = 1000;
/** How long a fault lasts at most when /readyz never answers during it. */
const FAULT_MS = 10_000;

interface Load {
  readonly acked: number;
  stop(): Promise<void>;
}

/** Devices publishing QoS 1 telemetry as fast as they are acknowledged, ten messages in flight each. */
async function startLoad(hub: TestHub, devices = 3): Promise<Load> {
  const clients: MqttClient[] = [];
  for (let n = 0; n < devices; n += 1) {
    const device = await provisionDevice(hub, `ready-load-${n}`);
    clients.push(
      await mqtt.connectAsync(hub.mqttUrl, {
        protocolVersion: 5,
        username: device.id,
        password: device.token,
        reconnectPeriod: 0,
      }),
    );
  }
  let running = true;
  let acked = 0;
  const worker = async (client: MqttClient) => {
    while (running) {
      try {
        await client.publishAsync('devices/me/telemetry', JSON.stringify({ v: Math.random() }), { qos: 1 });
        acked += 1;
      } catch {
        return;
      }
    }
  };
  const workers = clients.flatMap((client) => Array.from({ length: 10 }, () => worker(client)));
  return {
    get acked() {
      return acked;
    },
    stop: async () => {
      running = false;
      for (const client of clients) client.end(true);
      await Promise.all(workers);
    },
  };
}

interface Probe {
  response: ApiResponse;
  /** The answer came while the fault still lasted. */
  duringFault: boolean;
  ms: number;
}

/**
 * Probes /readyz while a fault lasts (three probes at once, then two one after the other), and ends the fault
 * once every probe answered or after FAULT_MS, whichever comes first: a probe that waits for the database to
 * recover can only answer after the fault ended.
 */
async function probeDuringFault(hub: TestHub, endFault: () => Promise<void> | void): Promise<Probe[]> {
  const fault = { on: true };
  const probe = async (): Promise<Probe> => {
    const started = performance.now();
    const response = await hub.api('GET', '/readyz', { auth: false });
    return { response, duringFault: fault.on, ms: Math.round(performance.now() - started) };
  };
  const probes = (async () => {
    const together = await Promise.all([probe(), probe(), probe()]);
    const first = await probe();
    return [...together, first, await probe()];
  })();
  await Promise.race([probes, sleep(FAULT_MS)]);
  fault.on = false;
  await endFault();
  return probes;
}

/** /readyz once the fault is over: it must come back to 200 by itself. */
async function readyAgain(hub: TestHub): Promise<ApiResponse> {
  let response = await hub.api('GET', '/readyz', { auth: false });
  for (let attempt = 0; attempt < 80 && response.status !== 200; attempt += 1) {
    await sleep(250);
    response = await hub.api('GET', '/readyz', { auth: false });
  }
  return response;
}

async function ackedAfter(load: Load, ms: number): Promise<number> {
  const before = load.acked;
  await sleep(ms);
  return load.acked - before;
}

describe('/readyz while the database accepts connections but never answers, under load', { timeout: 90_000 }, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let hub: TestHub;
  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = await TcpProxy.start(Number(direct.port), direct.hostname);
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    hub = await startTestHub({ DATABASE_URL: viaProxy.toString(), TELEHUB_INGEST_RETRY_MAX_MS: '200' }, { database });
  });
  afterAll(async () => {
    await hub?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 database_unavailable (timeout) within TELEHUB_READY_TIMEOUT_MS, then 200 once it answers again', async () => {
    expect((await hub.api('GET', '/readyz', { auth: false })).status).toBe(200);
    const load = await startLoad(hub);
    try {
      expect(await ackedAfter(load, 500)).toBeGreaterThan(0);
      proxy.stall();
      await sleep(300); // ingest batches, presence writes and their pool connections now hang

      const probes = await probeDuringFault(hub, () => proxy.resume());

      for (const { response, duringFault, ms } of probes) {
        expect({ status: response.status, duringFault }, `answered after ${ms} ms`).toEqual({
          status: 503,
          duringFault: true,
        });
        expect(response.body).toMatchObject({ status: 'database_unavailable', database: 'down', reason: 'timeout' });
        expect(response.body.detail).toContain('TELEHUB_READY_TIMEOUT_MS');
        // Bounded by the timeout, not by the outage; generous for a loaded 2-core machine.
        expect(ms).toBeLessThan(READY_TIMEOUT_MS * 3);
      }

      const after = await readyAgain(hub);
      expect(after.status, after.text).toBe(200);
      expect(after.body).toMatchObject({ status: 'ready', database: 'up' });
      expect(await ackedAfter(load, 1000)).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
  });
});

describe('/readyz while ingest holds every pool connection behind a table lock', { timeout: 90_000 }, () => {
  let hub: TestHub;
  beforeAll(async () => {
    // A pool that ingest alone fills: two batches in flight on two connections. With the default pool the same
    // happens once history reads and command steps pile up behind the lock too.
    hub = await startTestHub({ TELEHUB_DB_POOL_SIZE: '2', TELEHUB_INGEST_MAX_INFLIGHT: '2' });
  });
  afterAll(() => hub?.close());

  it('answers 200 from its own connection while the lock is held: the database itself answers', async () => {
    const load = await startLoad(hub);
    const device = await provisionDevice(hub, 'ready-history');
    const locker = await hub.database.client.sql.reserve();
    let locked = false;
    try {
      expect(await ackedAfter(load, 500)).toBeGreaterThan(0);
      await locker`BEGIN`;
      await locker`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`;
      locked = true;
      // Dashboards reading history wait behind the lock as well: whatever ingest leaves of the pool, they take.
      const history = [1, 2].map(() => hub.api('GET', `/api/v1/devices/${device.id}/telemetry?from=-1h`));
      await waitForLockWaiters(hub.database, 2);

      const probes = await probeDuringFault(hub, async () => {
        await locker`COMMIT`;
        locked = false;
      });

      for (const { response, duringFault, ms } of probes) {
        expect({ status: response.status, duringFault }, `answered after ${ms} ms`).toEqual({
          status: 200,
          duringFault: true,
        });
        expect(response.body).toMatchObject({ status: 'ready', database: 'up' });
      }
      expect((await Promise.all(history)).map((response) => response.status)).toEqual([200, 200]);
      expect(await ackedAfter(load, 1000)).toBeGreaterThan(0);
    } finally {
      if (locked) await locker`ROLLBACK`;
      locker.release();
      await load.stop();
    }
  });
});

/** Waits until `count` sessions of this database wait for a lock: the pool's connections are all stuck. */
async function waitForLockWaiters(database: TestDatabase, count: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const [row] = await database.client.sql<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    if ((row?.waiting ?? 0) >= count) return;
    await sleep(50);
  }
  throw new Error(`fewer than ${count} sessions wait for the lock`);
}
