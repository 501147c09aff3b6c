import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandReaches, createCommand } from './support/commands.js';
import { eventually, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/**
 * Issue 16 item 5: commands and the other small control statements never queue behind telemetry batches. The
 * batches are held in their commits by a lock on the telemetry table, every one the writer may have in flight;
 * with a main pool no larger than that, a command (create, delivery) and a new device's connect (auth, presence)
 * still go through, because the telemetry writers have connections of their own.
 */
describe('control statements beside stuck telemetry batches', () => {
  let hub: TestHub;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_DB_POOL_SIZE: '2', TELEHUB_INGEST_MAX_INFLIGHT: '2' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
    await hub?.close();
  });

  const connect = async (device: { id: string; token: string }) => {
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      protocolVersion: 5,
      username: device.id,
      password: device.token,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    clients.push(client);
    return client;
  };

  it('creates and delivers a command and connects a device while every telemetry batch waits on a lock', async () => {
    const publisher = await connect(await provisionDevice(hub, 'publisher'));
    const commanded = await provisionDevice(hub, 'commanded');

    const locker = await hub.database.client.sql.reserve();
    await locker`BEGIN`;
    await locker`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`;
    try {
      // Two messages a batch each, a few milliseconds apart: both batches the writer may have in flight get stuck.
      const acks = Array.from({ length: 20 }, (_, seq) =>
        sleep(seq * 20).then(() => publisher.publishAsync('devices/me/telemetry', JSON.stringify({ seq }), { qos: 1 })),
      );
      // Awaited below; a failure before then must not also surface as unhandled rejections.
      for (const ack of acks) ack.catch(() => undefined);
      const stuck = await eventually(async () => {
        const [row] = await hub.database.client.sql<{ waiting: number }[]>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`;
        return row!.waiting >= 2;
      });
      expect(stuck).toBe(true);

      const device = await connect(commanded);
      const received: string[] = [];
      device.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).id));
      await device.subscribeAsync(`devices/${commanded.id}/commands`, { qos: 1 });
      const created = await createCommand(hub, commanded.id, { name: 'reboot' });
      expect(created.status).toBe(201);
      await commandReaches(hub, commanded.id, created.body.id, 'delivered');
      expect(received).toEqual([created.body.id]);

      await locker`COMMIT`;
      await Promise.all(acks);
    } finally {
      await locker`ROLLBACK`.catch(() => undefined);
      locker.release();
    }
  });
});
