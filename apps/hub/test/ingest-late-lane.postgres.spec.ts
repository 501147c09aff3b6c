import { randomUUID } from 'node:crypto';
import { TelemetryRepository } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lateLaneWriteBatch, TelemetryLanes } from '../src/ingest/telemetry-lanes.js';
import { TelemetryWriter, type TelemetryWriterOptions } from '../src/ingest/telemetry-writer.js';

const DAY = 86_400_000;
const OPTIONS: TelemetryWriterOptions = {
  batchRows: 5000,
  batchMs: 20,
  maxInflight: 2,
  highWaterRows: 200_000,
  lowWaterRows: 100_000,
  retryMaxMs: 1000,
};

// Issue 12, item 3: a statement that waits for a late row (on TimescaleDB, for the compression of its chunk) must
// not hold the fleet's rows. Here the late row's statement waits on a real row lock (its device's latest value,
// which the ingest statement upserts), held by another transaction; the fleet's messages commit meanwhile.
/** Resolves once a statement of this database waits for a lock. */
async function waitForWaitingLock(database: TestDatabase): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = await database.client.sql<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    if (row!.waiting > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no statement waits for a lock');
}

describe('late rows in a statement of their own', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('commits the fleet while the late row waits, and the late row once the wait ends', async () => {
    const repository = new TelemetryRepository(database.client);
    // As the hub wires them (IngestService): the fleet's statement, and the late lane's write.
    const lanes = new TelemetryLanes(
      new TelemetryWriter(OPTIONS, { writeBatch: (batch, latest) => repository.insertBatchWithLatest(batch, latest) }),
      {
        writer: new TelemetryWriter({ ...OPTIONS, maxInflight: 1 }, { writeBatch: lateLaneWriteBatch(repository) }),
        ageMs: 6 * DAY,
      },
    );
    const now = Date.now();
    const late = randomUUID();
    await lanes.write(late, [{ metric: 'temp', time: now - 60_000, value: 1 }]);

    const locker = await database.client.sql.reserve();
    let lateWrite: Promise<void> | undefined;
    try {
      await locker`BEGIN`;
      await locker`SELECT 1 FROM device_latest WHERE device_id = ${late} FOR UPDATE`;
      // In the same tick, as they would arrive together: one buffered point of 8 days ago, and the fleet.
      let lateDone = false;
      lateWrite = lanes.write(late, [{ metric: 'temp', time: now - 8 * DAY, value: 2 }]).then(() => {
        lateDone = true;
      });
      const fleet = Array.from({ length: 5 }, () => randomUUID());
      await Promise.all(fleet.map((device, i) => lanes.write(device, [{ metric: 'temp', time: now, value: i }])));
      const [committed] = await database.client.sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM telemetry WHERE device_id = ANY(${fleet}::uuid[])`;
      expect(committed!.count).toBe(5);
      expect(lateDone).toBe(false);
      expect(lanes.pendingRows).toBe(1);
    } finally {
      await locker`COMMIT`;
      locker.release();
    }
    await lateWrite;
    const [row] = await database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${late}`;
    expect(row!.count).toBe(2);
    await lanes.close();
  });

  it('commits the fleet, the current point of the late device included, while its buffered point waits for its chunk', async () => {
    const repository = new TelemetryRepository(database.client);
    // As the hub wires them (IngestService): the fleet's statement, and the late lane's write.
    const lanes = new TelemetryLanes(
      new TelemetryWriter(OPTIONS, { writeBatch: (batch, latest) => repository.insertBatchWithLatest(batch, latest) }),
      {
        writer: new TelemetryWriter({ ...OPTIONS, maxInflight: 1 }, { writeBatch: lateLaneWriteBatch(repository) }),
        ageMs: 6 * DAY,
      },
    );
    const now = Date.now();
    const device = randomUUID();
    await lanes.write(device, [{ metric: 'temp', time: now - 60_000, value: 1 }]);

    // What a running compress_chunk does to a row for its chunk: the insert waits, here on an advisory lock that
    // the test holds, taken by the insert of a row older than 7 days (the chunk being compressed).
    await database.client.sql`
      CREATE FUNCTION wait_for_compression() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.time < now() - interval '7 days' THEN PERFORM pg_advisory_xact_lock_shared(1212); END IF;
        RETURN NEW;
      END $$`;
    await database.client.sql`
      CREATE TRIGGER wait_for_compression BEFORE INSERT ON telemetry
      FOR EACH ROW EXECUTE FUNCTION wait_for_compression()`;
    const compression = await database.client.sql.reserve();
    let lateWrite: Promise<void> | undefined;
    try {
      await compression`SELECT pg_advisory_lock(1212)`;
      // A device back online: its buffered point of 8 days ago, then its current one, with the fleet's.
      let lateDone = false;
      lateWrite = lanes.write(device, [{ metric: 'temp', time: now - 8 * DAY, value: 2 }]).then(() => {
        lateDone = true;
      });
      await waitForWaitingLock(database);
      const fleet = Array.from({ length: 5 }, () => randomUUID());
      const current = Promise.all([
        lanes.write(device, [{ metric: 'temp', time: now, value: 3 }]),
        ...fleet.map((other, i) => lanes.write(other, [{ metric: 'temp', time: now, value: i }])),
      ]);
      const committed = await Promise.race([
        current.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000)),
      ]);
      expect(committed, 'the fleet batch committed while the late row waited').toBe(true);
      expect(lateDone).toBe(false);
      const latest = await repository.latestForDevice(device);
      expect(latest).toEqual([expect.objectContaining({ metric: 'temp', value: 3 })]);
    } finally {
      await compression`SELECT pg_advisory_unlock(1212)`;
      compression.release();
    }
    await lateWrite;
    const [row] = await database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${device}`;
    expect(row!.count).toBe(3);
    expect(await repository.latestForDevice(device)).toEqual([expect.objectContaining({ value: 3 })]);
    await lanes.close();
    await database.client.sql`DROP TRIGGER wait_for_compression ON telemetry`;
  });
});
