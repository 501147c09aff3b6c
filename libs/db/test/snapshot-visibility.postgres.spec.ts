import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelemetryRepository } from '../src/repositories/telemetry.repository.js';
import { committedBefore, parseSnapshot } from '../src/snapshot-visibility.js';

describe('snapshot visibility against PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('agrees with pg_visible_in_snapshot for batches committed before, during and after a snapshot', async () => {
    const sql = database.client.sql;
    const repository = new TelemetryRepository(database.client);
    const [device] = await sql<
      { id: string }[]
    >`INSERT INTO devices (id, name) VALUES (gen_random_uuid(), 'v') RETURNING id`;
    const batch = (value: number) => ({
      times: [Date.now()],
      deviceIds: [device!.id],
      metrics: ['m'],
      values: [value],
    });
    const write = (value: number) => repository.insertBatchWithLatest(batch(value), batch(value));

    const before = (await write(1))!;
    let snapshotText = '';
    const during: string[] = [];
    let counted = 0;
    await sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const [row] = await tx<{ snapshot: string }[]>`SELECT pg_current_snapshot()::text AS snapshot`;
      snapshotText = row!.snapshot;
      during.push((await write(2))!);
      const [count] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM telemetry`;
      counted = count!.n;
    });
    const after = (await write(3))!;
    const snapshot = parseSnapshot(snapshotText);
    expect(counted).toBe(1);
    expect(committedBefore(BigInt(before), snapshot)).toBe(true);
    expect(committedBefore(BigInt(during[0]!), snapshot)).toBe(false);
    expect(committedBefore(BigInt(after), snapshot)).toBe(false);
    for (const xid of [before, during[0]!, after]) {
      const [row] = await sql<{ visible: boolean }[]>`
        SELECT pg_visible_in_snapshot(${xid}::xid8, ${snapshotText}::pg_snapshot) AS visible`;
      expect(committedBefore(BigInt(xid), snapshot)).toBe(row!.visible);
    }
  });
});
