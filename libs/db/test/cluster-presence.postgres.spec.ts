import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRepository } from '../src/repositories/command.repository.js';
import { DevicePresenceRepository, type PresenceChange } from '../src/repositories/device-presence.repository.js';
import { NodeLeaseRepository } from '../src/repositories/node-lease.repository.js';

// Several hub processes on one database: who owns a device's session, whose lease lapsed, what goes back to the queue.
describe('sessions, leases and lost processes against PostgreSQL', () => {
  let database: TestDatabase;
  let presence: DevicePresenceRepository;
  let leases: NodeLeaseRepository;
  let commands: CommandRepository;
  const hubA = randomUUID();
  const hubB = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    presence = new DevicePresenceRepository(database.client);
    leases = new NodeLeaseRepository(database.client);
    commands = new CommandRepository(database.client);
  });
  afterAll(() => database?.drop());

  async function newDevice(): Promise<string> {
    const [row] = await database.client.sql<{ id: string }[]>`INSERT INTO devices (name) VALUES ('x') RETURNING id`;
    return row!.id;
  }

  function change(deviceId: string, instance: string, sessionId: string, online = true): PresenceChange {
    const now = Date.now();
    return { deviceId, online, node: 'n', instance, sessionId, transport: 'mqtt', connectedAt: now, at: now };
  }

  async function row(deviceId: string) {
    const [found] = await database.client.sql<{ online: boolean; sessionId: string; reason: string | null }[]>`
      SELECT online, session_id AS "sessionId", disconnect_reason AS reason FROM devices WHERE id = ${deviceId}`;
    return found!;
  }

  it('answers the live session a new one replaced; an ended one is not replaced, and cannot mark the device offline', async () => {
    const device = await newDevice();
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await presence.applyPresence([change(device, hubA, first)])).toEqual([]);
    expect(await presence.applyPresence([change(device, hubB, second)])).toEqual([
      { deviceId: device, sessionId: first, instance: hubA },
    ]);
    // The session taken over ends on A: the device stays online with B's session.
    expect(await presence.applyPresence([change(device, hubA, first, false)])).toEqual([]);
    expect(await row(device)).toMatchObject({ online: true, sessionId: second });
    // B's ends: offline. A later session replaces nothing live.
    await presence.applyPresence([change(device, hubB, second, false)]);
    expect(await row(device)).toMatchObject({ online: false, sessionId: second });
    expect(await presence.applyPresence([change(device, hubA, third)])).toEqual([]);
    expect(await presence.sessionOwners([device])).toEqual([{ deviceId: device, online: true, sessionId: third }]);
  });

  it('orders sessions written at once from two connections: the second written displaces the first', async () => {
    const devices = await Promise.all(Array.from({ length: 20 }, () => newDevice()));
    const [onA, onB] = [devices.map(() => randomUUID()), devices.map(() => randomUUID())];
    const [fromA, fromB] = await Promise.all([
      presence.applyPresence(devices.map((device, i) => change(device, hubA, onA[i]!))),
      presence.applyPresence(devices.map((device, i) => change(device, hubB, onB[i]!))),
    ]);
    for (const [i, device] of devices.entries()) {
      const owner = (await row(device)).sessionId;
      const displaced = [...fromA, ...fromB].filter((entry) => entry.deviceId === device);
      // Exactly one of the two sessions is displaced, and it is the one not on record.
      expect(displaced).toHaveLength(1);
      expect([onA[i], onB[i]]).toContain(owner);
      expect(displaced[0]!.sessionId).toBe(owner === onA[i] ? onB[i] : onA[i]);
    }
  });

  it('lets only the session on record claim commands', async () => {
    const device = await newDevice();
    const [owner, former] = [randomUUID(), randomUUID()];
    await presence.applyPresence([change(device, hubA, former)]);
    await presence.applyPresence([change(device, hubB, owner)]);
    const created = await commands.create({
      deviceId: device,
      name: 'x',
      params: {},
      ttlSeconds: 60,
      maxOpenPerDevice: 9,
    });
    if (created.kind !== 'created') throw new Error(created.kind);
    expect(await commands.claimForDelivery(device, [], 10, former)).toEqual([]);
    expect((await commands.claimForDelivery(device, [], 10, owner)).map((command) => command.id)).toEqual([
      created.command.id,
    ]);
  });

  it('reaps a lapsed lease once: its devices offline (node_lost), its unacknowledged commands queued again', async () => {
    const lost = randomUUID();
    const alive = randomUUID();
    await leases.register(lost, 'lost-node', 60_000);
    await leases.register(alive, 'alive-node', 60_000);
    const [onLost, onAlive] = [await newDevice(), await newDevice()];
    await presence.applyPresence([change(onLost, lost, randomUUID()), change(onAlive, alive, randomUUID())]);
    const created = await commands.create({
      deviceId: onLost,
      name: 'x',
      params: {},
      ttlSeconds: 60,
      maxOpenPerDevice: 9,
    });
    if (created.kind !== 'created') throw new Error(created.kind);
    await commands.claimForDelivery(onLost, [], 10);
    expect(await leases.reapExpired()).toEqual([]);

    // It lapses now, after it sent the command (a process renews its lease until it dies).
    await database.client.sql`UPDATE hub_nodes SET expires_at = now() WHERE instance_id = ${lost}`;
    const [first, second] = await Promise.all([leases.reapExpired(), leases.reapExpired()]);
    const reaped = [...first!, ...second!];
    expect(reaped).toHaveLength(1);
    expect(reaped[0]).toMatchObject({
      instanceId: lost,
      name: 'lost-node',
      devices: [{ deviceId: onLost, transport: 'mqtt' }],
    });
    expect(await row(onLost)).toMatchObject({ online: false, reason: 'node_lost' });
    expect(await row(onAlive)).toMatchObject({ online: true });
    expect(await leases.renew(lost, 60_000)).toBe(false);
    expect(await leases.renew(alive, 60_000)).toBe(true);

    const requeued = await commands.requeueUnacknowledged([onLost], reaped[0]!.expiredAt);
    expect(requeued.map((command) => [command.id, command.status])).toEqual([[created.command.id, 'queued']]);
    expect(requeued[0]!.transitions.map((step) => step.status)).toEqual(['queued', 'sent', 'queued']);
  });

  it('frees devices recorded online on no live process, and leaves the others', async () => {
    const alive = randomUUID();
    await leases.register(alive, 'alive-node', 60_000);
    const [legacy, gone, kept] = [await newDevice(), await newDevice(), await newDevice()];
    await database.client.sql`UPDATE devices SET online = true WHERE id = ${legacy}`;
    await presence.applyPresence([change(gone, randomUUID(), randomUUID()), change(kept, alive, randomUUID())]);
    const orphans = await leases.reapOrphans();
    expect(orphans.map((orphan) => orphan.deviceId).sort()).toEqual(expect.arrayContaining([legacy, gone].sort()));
    expect(orphans.map((orphan) => orphan.deviceId)).not.toContain(kept);
    expect(await row(kept)).toMatchObject({ online: true });
    expect(await leases.release(alive, 'server_shutdown')).toBe(1);
    expect(await row(kept)).toMatchObject({ online: false, reason: 'server_shutdown' });
    expect((await leases.live()).map((node) => node.instanceId)).not.toContain(alive);
  });
});
