import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CommandDeviceEvent,
  type CommandNotice,
  CommandRepository,
  OPEN_COMMAND_STATUSES,
} from '../src/repositories/command.repository.js';

/** Polls until `check` holds (a NOTIFY arrives after its commit, on another connection), at most 5 s. */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('CommandRepository against PostgreSQL', () => {
  let database: TestDatabase;
  let repository: CommandRepository;
  const announced: { notice: CommandNotice; event: CommandDeviceEvent }[] = [];
  let unlisten: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase();
    repository = new CommandRepository(database.client);
    unlisten = await repository.listen(
      (notice, event) => announced.push({ notice, event }),
      () => undefined,
    );
  });
  afterAll(async () => {
    await unlisten?.();
    await database?.drop();
  });

  async function newDevice(): Promise<string> {
    const [row] = await database.client.sql<{ id: string }[]>`
      INSERT INTO devices (id, name) VALUES (gen_random_uuid(), 'commands') RETURNING id`;
    return row!.id;
  }

  async function create(deviceId: string, name: string): Promise<string> {
    const created = await repository.create({ deviceId, name, params: {}, ttlSeconds: 60, maxOpenPerDevice: 10 });
    if (created.kind !== 'created') throw new Error(created.kind);
    return created.command.id;
  }

  async function eventRows(deviceId: string) {
    return database.client.sql<{ type: string; detail: Record<string, unknown>; at: number }[]>`
      SELECT type, detail, (extract(epoch FROM time) * 1000)::float8 AS at
      FROM device_events WHERE device_id = ${deviceId} ORDER BY id`;
  }

  it('writes each step as a command_<status> device event, and announces it as written', async () => {
    const deviceId = await newDevice();
    const id = await create(deviceId, 'open_valve');
    expect((await repository.claimForDelivery(deviceId, [], 10)).map((command) => command.id)).toEqual([id]);
    await repository.transition([id], { to: 'delivered', from: ['sent'], deviceId });
    const [failed] = await repository.transition([id], {
      to: 'failed',
      from: OPEN_COMMAND_STATUSES,
      deviceId,
      result: { position: 12 },
      error: 'valve jammed',
    });
    expect(failed?.transitions.map((step) => step.status)).toEqual(['queued', 'sent', 'delivered', 'failed']);

    const rows = await eventRows(deviceId);
    expect(rows.map((row) => row.type)).toEqual([
      'command_queued',
      'command_sent',
      'command_delivered',
      'command_failed',
    ]);
    expect(rows.at(-1)?.detail).toEqual({ commandId: id, name: 'open_valve', error: 'valve jammed' });
    await until(() => announced.filter(({ notice }) => notice.id === id).length === 4);
    const mine = announced.filter(({ notice }) => notice.id === id);
    expect(mine.map(({ event }) => event)).toEqual(rows);
    // The notice itself is as it was: no event in it, the time of the step.
    for (const { notice, event } of mine) {
      expect(notice).not.toHaveProperty('event');
      expect(notice.at).toBe(event.at);
    }
  });

  it('stores a long error whole and announces it cut, in the notice and in its event', async () => {
    const deviceId = await newDevice();
    const id = await create(deviceId, 'reboot');
    const error = 'é'.repeat(2000);
    await repository.transition([id], { to: 'failed', from: OPEN_COMMAND_STATUSES, deviceId, error });
    const [row] = (await eventRows(deviceId)).filter((event) => event.type === 'command_failed');
    expect(row?.detail.error).toBe(error);
    await until(() => announced.some(({ notice }) => notice.id === id && notice.status === 'failed'));
    const { notice, event } = announced.find((entry) => entry.notice.id === id && entry.notice.status === 'failed')!;
    expect(notice.error).toBe('é'.repeat(500));
    expect(event.detail).toEqual({ commandId: id, name: 'reboot', error: 'é'.repeat(500) });
  });

  it('leaves a command that another statement moved out of `from` while it waited for the row', async () => {
    const deviceId = await newDevice();
    const id = await create(deviceId, 'blink');
    await repository.claimForDelivery(deviceId, [], 10);
    const sql = database.client.sql;
    const other = await sql.reserve();
    try {
      await other`BEGIN`;
      await other`UPDATE commands SET status = 'succeeded' WHERE id = ${id}`;
      const moving = repository.transition([id], { to: 'delivered', from: ['sent'], deviceId });
      // The marker that the transition read the row as `sent` and now waits for its lock.
      await until(async () => {
        const [waiting] = await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`;
        return waiting!.n > 0;
      });
      await other`COMMIT`;
      expect(await moving).toEqual([]);
    } finally {
      other.release();
    }
    expect((await eventRows(deviceId)).map((row) => row.type)).toEqual(['command_queued', 'command_sent']);
  });
});
