import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MqttSessionOpening, MqttSessionRepository } from '../src/repositories/mqtt-session.repository.js';
import { NodeLeaseRepository } from '../src/repositories/node-lease.repository.js';

describe('MqttSessionRepository against PostgreSQL', () => {
  let database: TestDatabase;
  let sessions: MqttSessionRepository;
  /** A hub process with a live lease, holding the sessions of these tests unless one says otherwise. */
  const liveInstance = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    sessions = new MqttSessionRepository(database.client);
    await new NodeLeaseRepository(database.client).register(liveInstance, 'live-hub', 600_000);
  });
  afterAll(() => database?.drop());

  async function newDevice(): Promise<string> {
    const [row] = await database.client.sql<{ id: string }[]>`
      INSERT INTO devices (id, name) VALUES (gen_random_uuid(), 'sessions') RETURNING id`;
    return row!.id;
  }

  function opening(deviceId: string, overrides: Partial<MqttSessionOpening> = {}): MqttSessionOpening {
    return {
      deviceId,
      clientId: 'client-a',
      cleanStart: false,
      expirySeconds: 60,
      connectionId: randomUUID(),
      instance: liveInstance,
      ...overrides,
    };
  }

  /** Makes the device's kept session expire now, as if its expiry had passed. */
  async function expireNow(deviceId: string): Promise<void> {
    await database.client.sql`
      UPDATE mqtt_sessions SET expires_at = now() - interval '1 second' WHERE device_id = ${deviceId}`;
  }

  it('resumes a session of the same client id with its subscriptions and unacknowledged commands', async () => {
    const deviceId = await newDevice();
    const first = opening(deviceId);
    expect(await sessions.open(first)).toBeUndefined();
    expect(await sessions.saveSubscriptions(deviceId, first.connectionId, { 'devices/me/commands': 1 })).toBe(true);
    const commandId = randomUUID();
    await sessions.close(deviceId, first.connectionId, 120, [{ packetId: 9, commandId }]);
    expect(await sessions.open(opening(deviceId))).toEqual({
      subscriptions: { 'devices/me/commands': 1 },
      unacknowledged: [{ packetId: 9, commandId }],
    });
  });

  it('does not resume a session made by another client id, an expired one, or one asked to start clean', async () => {
    const deviceId = await newDevice();
    const kept = async () => {
      const holder = opening(deviceId);
      await sessions.open(holder);
      await sessions.saveSubscriptions(deviceId, holder.connectionId, { 'devices/me/commands': 1 });
      await sessions.close(deviceId, holder.connectionId, 120, []);
    };
    await kept();
    expect(await sessions.open(opening(deviceId, { clientId: 'client-b' }))).toBeUndefined();
    await kept();
    await expireNow(deviceId);
    expect(await sessions.open(opening(deviceId))).toBeUndefined();
    await kept();
    expect(await sessions.open(opening(deviceId, { cleanStart: true }))).toBeUndefined();
    // The clean start replaced it with an empty session.
    const [row] = await database.client.sql`SELECT subscriptions FROM mqtt_sessions WHERE device_id = ${deviceId}`;
    expect(row?.subscriptions).toEqual({});
  });

  it('a connection that was taken over can neither save nor end the session', async () => {
    const deviceId = await newDevice();
    const old = opening(deviceId);
    await sessions.open(old);
    const current = opening(deviceId);
    await sessions.open(current);
    expect(await sessions.saveSubscriptions(deviceId, old.connectionId, { x: 0 })).toBe(false);
    await sessions.close(deviceId, old.connectionId, 0, []);
    const [row] = await database.client.sql<{ connectionId: string }[]>`
      SELECT connection_id AS "connectionId" FROM mqtt_sessions WHERE device_id = ${deviceId}`;
    expect(row?.connectionId).toBe(current.connectionId);
  });

  it('releases the sessions of hub processes that are gone, starting their expiry, and keeps the live ones', async () => {
    const [lost, kept] = [await newDevice(), await newDevice()];
    // Held by a process with no lease (killed, its lease lapsed and reaped).
    await sessions.open(opening(lost, { instance: randomUUID(), expirySeconds: 300 }));
    await sessions.open(opening(kept, { expirySeconds: 300 }));
    expect(await sessions.releaseOrphans()).toBe(1);
    const rows = await database.client.sql<{ deviceId: string; held: boolean; left: number | null }[]>`
      SELECT device_id AS "deviceId", connection_id IS NOT NULL AS held,
        extract(epoch FROM expires_at - now())::float8 AS left
      FROM mqtt_sessions WHERE device_id IN (${lost}, ${kept})`;
    expect(rows.find((row) => row.deviceId === lost)).toMatchObject({ held: false });
    expect(rows.find((row) => row.deviceId === lost)!.left).toBeGreaterThan(290);
    expect(rows.find((row) => row.deviceId === kept)).toMatchObject({ held: true, left: null });
    expect(await sessions.releaseOrphans()).toBe(0);
  });

  it('deletes each expired session exactly once when several hubs sweep at the same time', async () => {
    const deviceIds = await Promise.all(Array.from({ length: 40 }, () => newDevice()));
    for (const deviceId of deviceIds) {
      const holder = opening(deviceId);
      await sessions.open(holder);
      await sessions.close(deviceId, holder.connectionId, 60, []);
      await expireNow(deviceId);
    }
    const alive = await newDevice();
    const holder = opening(alive);
    await sessions.open(holder);
    await sessions.close(alive, holder.connectionId, 60, []);

    const sweeps = await Promise.all(Array.from({ length: 4 }, () => sessions.deleteExpired(15)));
    let rest = await sessions.deleteExpired(100);
    const deleted = [...sweeps.flat(), ...rest].map((row) => row.deviceId);
    expect(deleted.sort()).toEqual([...deviceIds].sort());
    rest = await sessions.deleteExpired(100);
    expect(rest).toEqual([]);
    const [left] = await database.client.sql`SELECT count(*)::int AS n FROM mqtt_sessions WHERE device_id = ${alive}`;
    expect(left?.n).toBe(1);
  });

  it('discards the sessions of many devices in one statement', async () => {
    const [a, b] = [await newDevice(), await newDevice()];
    await sessions.open(opening(a));
    await sessions.open(opening(b));
    await sessions.discard([a, b, randomUUID()]);
    const [left] = await database.client.sql`
      SELECT count(*)::int AS n FROM mqtt_sessions WHERE device_id = ANY(${[a, b]}::uuid[])`;
    expect(left?.n).toBe(0);
  });
});
