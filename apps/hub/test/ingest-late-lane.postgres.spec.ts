import { randomUUID } from 'node:crypto';
import { TelemetryRepository } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelemetryLanes } from '../src/ingest/telemetry-lanes.js';
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
    const writer = (options: TelemetryWriterOptions) =>
      new TelemetryWriter(options, { writeBatch: (batch, latest) => repository.insertBatchWithLatest(batch, latest) });
    const lanes = new TelemetryLanes(writer(OPTIONS), {
      writer: writer({ ...OPTIONS, maxInflight: 1 }),
      ageMs: 6 * DAY,
    });
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
});
