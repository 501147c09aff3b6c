import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMqtt, FAST_LEASES, instanceOf, presenceRow } from './support/cluster.js';
import { commandReaches, createCommand, getCommand, statuses } from './support/commands.js';
import { connectDeviceSocket, type DeviceSocket } from './support/device-socket.js';
import { deviceEvents, eventually, provisionDevice } from './support/devices.js';
import { type HubProcess, startHubProcess } from './support/hub-process.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const clients: MqttClient[] = [];
const sockets: DeviceSocket[] = [];
const hubs: TestHub[] = [];
const processes: HubProcess[] = [];
const databases: TestDatabase[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
  for (const socket of sockets.splice(0)) socket.close();
  for (const hub of hubs.splice(0).reverse()) await hub.close();
  for (const child of processes.splice(0)) {
    child.child.kill('SIGKILL');
    await child.exited;
  }
  for (const database of databases.splice(0)) await database.drop();
});
/** A device row written as online on a hub process that no longer exists (or never had an instance id). */
async function orphanedDevice(hub: TestHub): Promise<string> {
  const [row] = await hub.database.client.sql<{ id: string }[]>`
    INSERT INTO devices (name, online, connected_node, connected_at, transport)
    VALUES ('orphan', true, 'gone', now(), 'mqtt') RETURNING id`;
  return row!.id;
}

describe('hub processes on one database: identity, leases, lost processes', () => {
  it('gives two processes with the default node id distinct instance ids; the second leaves the first’s devices online', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    // No TELEHUB_NODE_ID: both are named after the host.
    const first = await startTestHub(FAST_LEASES, { database });
    hubs.push(first);
    const device = await provisionDevice(first);
    clients.push(await connectMqtt(first.mqttUrl, device));
    await eventually(async () => (await presenceRow(first, device.id)).online);
    // Marker that the first hub has made its one pass over orphaned presence.
    const earlier = await orphanedDevice(first);
    await eventually(async () => !(await presenceRow(first, earlier)).online, 5000);

    const second = await startTestHub(FAST_LEASES, { database, adminToken: first.adminToken });
    hubs.push(second);
    // Marker that the second hub has started and made its own pass (after a lease time of renewals).
    const later = await orphanedDevice(first);
    const reaped = await eventually(async () => {
      const row = await presenceRow(first, later);
      return row.online ? undefined : row;
    }, 5000);
    expect(reaped).toMatchObject({ online: false, reason: 'node_lost' });

    const nodes = await database.client.sql<{ instanceId: string; name: string }[]>`
      SELECT instance_id AS "instanceId", name FROM hub_nodes ORDER BY started_at`;
    expect(nodes.map((node) => node.instanceId).sort()).toEqual([instanceOf(first), instanceOf(second)].sort());
    expect(instanceOf(first)).not.toBe(instanceOf(second));
    expect(nodes[0]!.name).toBe(nodes[1]!.name);
    expect(await presenceRow(first, device.id)).toMatchObject({ online: true, instance: instanceOf(first) });
  });

  it('gives its lease back at shutdown: its devices offline (server_shutdown), its row gone', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const hub = await startTestHub(FAST_LEASES, { database });
    const device = await provisionDevice(hub);
    clients.push(await connectMqtt(hub.mqttUrl, device));
    await eventually(async () => (await presenceRow(hub, device.id)).online);
    const instance = instanceOf(hub);
    await hub.close();
    expect(await presenceRow(hub, device.id)).toMatchObject({ online: false, reason: 'server_shutdown' });
    expect(await database.client.sql`SELECT 1 FROM hub_nodes WHERE instance_id = ${instance}`).toHaveLength(0);
  });

  it('kill -9: the process’s devices go offline (node_lost) within the lease, and a command it sent but never saw acknowledged reaches the device on another hub', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const doomed = await startHubProcess(database.url, { ...FAST_LEASES, TELEHUB_NODE_ID: 'doomed' });
    processes.push(doomed);
    const survivor = await startTestHub(
      { ...FAST_LEASES, TELEHUB_NODE_ID: 'survivor' },
      { database, adminToken: doomed.adminToken },
    );
    hubs.push(survivor);
    const doomedUrl = `http://127.0.0.1:${doomed.httpPort}`;
    const device = await provisionDevice(survivor);
    const other = await provisionDevice(survivor);

    // One device on the JSON WebSocket (it acknowledges commands only when told to), one over MQTT.
    const socket = await connectDeviceSocket(doomedUrl, device.token);
    sockets.push(socket);
    clients.push(await connectMqtt(`mqtt://127.0.0.1:${doomed.mqttPort}`, other));
    await eventually(async () => (await presenceRow(survivor, device.id)).online);
    await eventually(async () => (await presenceRow(survivor, other.id)).online);
    const created = await createCommand(survivor, device.id, { name: 'open_valve' });
    expect(created.status).toBe(201);
    const frame = await socket.next();
    expect(frame).toMatchObject({ type: 'command', id: created.body.id });
    await commandReaches(survivor, device.id, created.body.id, 'sent');

    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await doomed.exited;
    // Lapsed after 1 s (TELEHUB_NODE_LEASE_TTL_MS), noticed within a renewal (200 ms) or two.
    for (const id of [device.id, other.id]) {
      const row = await eventually(async () => {
        const current = await presenceRow(survivor, id);
        return current.online ? undefined : current;
      }, 5000);
      expect(row).toMatchObject({ online: false, reason: 'node_lost' });
    }
    // The lease time, a renewal to notice, another for the reaper's statement, and room for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(1000 + 2 * 200 + 1000);
    const lost = await eventually(async () =>
      (await deviceEvents(survivor, device.id)).find(
        (event) => event.type === 'disconnected' && event.detail.reason === 'node_lost',
      ),
    );
    expect(lost?.detail).toMatchObject({ node: 'doomed', transport: 'ws' });
    const requeued = await commandReaches(survivor, device.id, created.body.id, 'queued');
    expect(statuses(requeued)).toEqual(['queued', 'sent', 'queued']);

    // The device reconnects, to the survivor: the command reaches it there.
    const again = await connectDeviceSocket(survivor.baseUrl, device.token);
    sockets.push(again);
    const resent = await again.next();
    expect(resent).toMatchObject({ type: 'command', id: created.body.id, name: 'open_valve' });
    again.send({ type: 'command_ack', id: created.body.id });
    await commandReaches(survivor, device.id, created.body.id, 'delivered');
    expect((await getCommand(survivor, device.id, created.body.id)).sendCount).toBe(2);
    expect(await presenceRow(survivor, device.id)).toMatchObject({ online: true, instance: instanceOf(survivor) });
    // Nothing of the killed process is left to reap.
    const leases = await database.client.sql<{ name: string }[]>`SELECT name FROM hub_nodes`;
    expect(leases.map((lease) => lease.name)).toEqual(['survivor']);
  });
});
