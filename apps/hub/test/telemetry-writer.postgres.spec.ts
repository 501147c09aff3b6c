import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TelemetryBatch, TelemetryRepository } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TelemetryPoint } from '../src/ingest/telemetry-payload.js';
import {
  RowsRefusedError,
  TelemetryWriter,
  type TelemetryWriterOptions,
  WriterClosedError,
} from '../src/ingest/telemetry-writer.js';

const T0 = Date.UTC(2026, 0, 1);

function options(overrides: Partial<TelemetryWriterOptions> = {}): TelemetryWriterOptions {
  return {
    batchRows: 5000,
    batchMs: 20,
    maxInflight: 2,
    highWaterRows: 200_000,
    lowWaterRows: 100_000,
    retryMaxMs: 5000,
    ...overrides,
  };
}

/** `count` points of one metric, one millisecond apart from `start`, valued by their index. */
function series(count: number, start = T0, metric = 'temp'): TelemetryPoint[] {
  return Array.from({ length: count }, (_, index) => ({ time: start + index, metric, value: index }));
}

/** Lets pending setImmediate callbacks (the writer's next-tick batch) run first. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function track(promise: Promise<void>): { settled: boolean; promise: Promise<void> } {
  const state = { settled: false, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

interface HeldCall {
  batch: TelemetryBatch;
  latest: TelemetryBatch;
  release(): void;
  fail(error: Error): void;
}

/** A writeBatch whose calls stay in flight until the test releases (or fails) them. */
function heldWrites() {
  const calls: HeldCall[] = [];
  const writeBatch = (batch: TelemetryBatch, latest: TelemetryBatch) =>
    new Promise<void>((release, fail) => {
      calls.push({ batch, latest, release: () => release(), fail });
    });
  return { calls, writeBatch };
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'Immediate').length;
}

// Both write methods of TELEHUB_INGEST_WRITE_METHOD: the INSERT statement (the default) and COPY.
describe.each(['copy', 'insert'] as const)('TelemetryWriter against PostgreSQL, %s', (method) => {
  let database: TestDatabase;
  let repository: TelemetryRepository;
  const writeBatch = (batch: TelemetryBatch, latest: TelemetryBatch) =>
    method === 'copy' ? repository.copyBatchWithLatest(batch, latest) : repository.insertBatchWithLatest(batch, latest);

  beforeAll(async () => {
    database = await createTestDatabase();
    repository = new TelemetryRepository(database.client);
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** device_latest read directly: the shared client hands timestamps back as strings (drizzle sets its parsers). */
  async function latestOf(deviceId: string): Promise<{ metric: string; time: number; value: number }[]> {
    return database.client.sql<{ metric: string; time: number; value: number }[]>`
      SELECT metric, (extract(epoch FROM time) * 1000)::float8 AS time, value
      FROM device_latest WHERE device_id = ${deviceId} ORDER BY metric`;
  }

  async function countBetween(deviceId: string, from: number, to: number): Promise<number> {
    const [row] = await database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry
      WHERE device_id = ${deviceId} AND time >= to_timestamp(${from} / 1000.0) AND time < to_timestamp(${to} / 1000.0)`;
    return row?.count ?? 0;
  }

  it('commits rows from several devices and writes; each write resolves once its rows are visible', async () => {
    type CommittedPoint = { deviceId: string; time: number };
    const committed: CommittedPoint[][] = [];
    const writer = new TelemetryWriter(options({ batchRows: 40 }), {
      writeBatch,
      // Copied out of the columnar batch into one point per row, to check them one by one.
      onCommitted: (batch) =>
        committed.push(batch.deviceIds.map((deviceId, row) => ({ deviceId, time: batch.times[row]! }))),
    });
    const devices = [randomUUID(), randomUUID(), randomUUID()];
    const writes: Promise<number>[] = [];
    for (let round = 0; round < 20; round++) {
      for (const deviceId of devices) {
        const start = T0 + round * 1000;
        // Checked the moment the write resolves: its own five rows must already be readable.
        writes.push(writer.write(deviceId, series(5, start)).then(() => countBetween(deviceId, start, start + 5)));
      }
      if (round % 4 === 0) await nextTick();
    }
    expect(await Promise.all(writes)).toEqual(writes.map(() => 5));
    for (const deviceId of devices) expect(await repository.countForDevice(deviceId)).toBe(100);
    expect(writer.pendingRows).toBe(0);

    // onCommitted saw every point once, per batch in arrival order (batches in flight together may commit in
    // either order, so the order holds within a batch only).
    expect(committed.flat()).toHaveLength(300);
    const key = (point: CommittedPoint) => `${point.deviceId}/${point.time}`;
    expect(new Set(committed.flat().map(key)).size).toBe(300);
    for (const points of committed) {
      for (const deviceId of devices) {
        const times = points.filter((point) => point.deviceId === deviceId).map((point) => point.time);
        expect(times).toEqual([...times].sort((x, y) => x - y));
      }
    }
    expect(committed.length).toBeLessThan(60); // 60 writes, coalesced
    await writer.close();
  });

  it('does not resolve a write before its transaction commits', async () => {
    let calls = 0;
    const writer = new TelemetryWriter(options(), {
      writeBatch: (batch, latest) => {
        calls += 1;
        return writeBatch(batch, latest);
      },
    });
    const deviceId = randomUUID();
    const locker = await database.client.sql.reserve();
    let write: ReturnType<typeof track> | undefined;
    try {
      await locker`BEGIN`;
      await locker`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`;
      write = track(writer.write(deviceId, series(2)));
      await sleep(300);
      expect(calls).toBe(1); // the insert was sent and is waiting for the lock...
      expect(write.settled).toBe(false); // ...so the write is not acknowledged
      expect(writer.pendingRows).toBe(2);
    } finally {
      await locker`COMMIT`;
      locker.release();
    }
    await write.promise;
    expect(await repository.countForDevice(deviceId)).toBe(2);
    expect(writer.pendingRows).toBe(0);
    await writer.close();
  });

  it('keeps the newest value per metric in device_latest, whatever order timestamps arrive in', async () => {
    const latestArguments: TelemetryBatch[] = [];
    const writer = new TelemetryWriter(options(), {
      writeBatch: (batch, latest) => {
        latestArguments.push(latest);
        return writeBatch(batch, latest);
      },
    });
    const [a, b] = [randomUUID(), randomUUID()].sort();
    // Same tick: one batch holding both devices, timestamps out of order and a tie.
    await Promise.all([
      writer.write(b!, [
        { time: T0 + 3000, metric: 'temp', value: 3 },
        { time: T0 + 1000, metric: 'temp', value: 1 },
        { time: T0 + 2000, metric: 'hum', value: 20 },
      ]),
      writer.write(a!, [{ time: T0, metric: 'temp', value: 7 }]),
      writer.write(b!, [{ time: T0 + 2000, metric: 'hum', value: 21 }]),
    ]);
    expect(latestArguments).toEqual([
      {
        deviceIds: [a, b, b],
        metrics: ['temp', 'hum', 'temp'],
        times: [T0, T0 + 2000, T0 + 3000],
        values: [7, 21, 3],
      },
    ]);
    expect(await latestOf(b!)).toEqual([
      { metric: 'hum', time: T0 + 2000, value: 21 },
      { metric: 'temp', time: T0 + 3000, value: 3 },
    ]);
    expect(await latestOf(a!)).toEqual([{ metric: 'temp', time: T0, value: 7 }]);

    // A later batch with an older temp must not move device_latest back in time; a newer hum does move it.
    await writer.write(b!, [
      { time: T0 + 2500, metric: 'temp', value: 99 },
      { time: T0 + 5000, metric: 'hum', value: 50 },
    ]);
    expect(latestArguments).toHaveLength(2);
    expect(await latestOf(b!)).toEqual([
      { metric: 'hum', time: T0 + 5000, value: 50 },
      { metric: 'temp', time: T0 + 3000, value: 3 },
    ]);
    expect(await repository.countForDevice(b!)).toBe(6);
    await writer.close();
  });

  it('retries a failed batch through an outage: every row committed once, logged once down and once up', async () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const retries: [attempt: number, delayMs: number][] = [];
    const attempts: { batch: TelemetryBatch; latest: TelemetryBatch; at: number; active: number }[] = [];
    const failureEnds: number[] = [];
    let failuresLeft = 3;
    let active = 0;
    const outageError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const writer = new TelemetryWriter(options({ batchRows: 50, retryMaxMs: 150 }), {
      writeBatch: async (batch, latest) => {
        attempts.push({ batch, latest, at: performance.now(), active: ++active });
        try {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            await sleep(5);
            failureEnds.push(performance.now());
            throw outageError;
          }
          await writeBatch(batch, latest);
        } finally {
          active -= 1;
        }
      },
      onRetry: (_error, attempt, delayMs) => retries.push([attempt, delayMs]),
      log,
    });
    const [a, b] = [randomUUID(), randomUUID()];
    const writes = [track(writer.write(a, series(10, T0)))];
    await sleep(20); // the first batch has failed: the database is "down"
    for (let round = 1; round <= 12; round++) {
      writes.push(track(writer.write(a, series(10, T0 + round * 100))));
      writes.push(track(writer.write(b, series(10, T0 + round * 100))));
    }
    await sleep(40);
    expect(writes.some((write) => write.settled)).toBe(false);
    expect(writer.pendingRows).toBe(250);

    await Promise.all(writes.map((write) => write.promise));
    expect(await repository.countForDevice(a)).toBe(130);
    expect(await repository.countForDevice(b)).toBe(120);
    expect(writer.pendingRows).toBe(0);

    // The same batch (same rows, same latest) was retried, one probe at a time, after a backoff each time.
    expect(attempts.slice(0, 4).map((attempt) => attempt.batch)).toEqual(Array(4).fill(attempts[0]!.batch));
    expect(new Set(attempts.slice(0, 4).map((attempt) => attempt.latest)).size).toBe(1);
    expect(attempts.slice(0, 4).every((attempt) => attempt.active === 1)).toBe(true);
    for (let retry = 1; retry <= 3; retry++) {
      expect(attempts[retry]!.at - failureEnds[retry - 1]!).toBeGreaterThanOrEqual(40);
    }
    expect(retries.map(([attempt]) => attempt)).toEqual([1, 2, 3]);
    for (const [, delayMs] of retries) expect(delayMs).toBeLessThanOrEqual(150);

    expect(log.error).toHaveBeenCalledOnce();
    expect(log.error.mock.calls[0]![0]).toMatchObject({ err: outageError });
    expect(log.error.mock.calls[0]![1]).toMatch(/unavailable/);
    expect(log.info).toHaveBeenCalledOnce();
    expect(log.info.mock.calls[0]![0]).toMatchObject({ failedAttempts: 3, rowsWritten: 10 });
    expect(log.info.mock.calls[0]![0].downtimeMs).toBeGreaterThan(0);
    expect(log.info.mock.calls[0]![1]).toMatch(/available again/);
    await writer.close();
  });

  it('refuses only the message whose rows the database refuses (a data error), never retrying it', async () => {
    // An operator's CHECK constraint: the database refuses rows the hub's own validation let through (23514).
    await database.client.sql`ALTER TABLE telemetry ADD CONSTRAINT sane_value CHECK (value > -1000000)`;
    try {
      const attempts: number[] = [];
      const refused: number[] = [];
      const retries = vi.fn();
      const writer = new TelemetryWriter(options({ batchMs: 60_000 }), {
        writeBatch: (batch, latest) => {
          attempts.push(batch.times.length);
          return writeBatch(batch, latest);
        },
        onRefused: (rows) => refused.push(rows),
        onRetry: retries,
      });
      const devices = Array.from({ length: 8 }, () => randomUUID());
      const poison = devices[5]!;
      const writes = devices.map((device) =>
        writer.write(
          device,
          series(3).map((point, index) => (device === poison && index === 1 ? { ...point, value: -5e6 } : point)),
        ),
      );
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(
        devices.map((device) => (device === poison ? 'rejected' : 'fulfilled')),
      );
      const refusal = (outcomes[5] as PromiseRejectedResult).reason;
      expect(refusal).toBeInstanceOf(RowsRefusedError);
      expect(refusal).toMatchObject({ code: 'data_rejected', cause: { code: '23514' } });
      for (const device of devices) expect(await repository.countForDevice(device)).toBe(device === poison ? 0 : 3);
      // Halves of 8, 4, 2, 1 messages: the culprit is alone after log2(8) rounds; no outage, no retry of it.
      expect(attempts).toEqual([24, 12, 12, 6, 6, 3, 3]);
      expect(refused).toEqual([3]);
      expect(retries).not.toHaveBeenCalled();
      expect(writer.databaseUnavailable).toBe(false);
      expect(writer.pendingRows).toBe(0);
      // The writer goes on as before.
      await writer.write(poison, series(2, T0 + 100));
      expect(await repository.countForDevice(poison)).toBe(2);
      await writer.close();
    } finally {
      await database.client.sql`ALTER TABLE telemetry DROP CONSTRAINT sane_value`;
    }
  });

  it('close() commits what is pending, then rejects new writes', async () => {
    const writer = new TelemetryWriter(options({ batchMs: 60_000 }), { writeBatch });
    const [a, b] = [randomUUID(), randomUUID()];
    const writes = [writer.write(a, series(3)), writer.write(b, series(2))];
    const closing = writer.close();
    await expect(writer.write(a, series(1, T0 + 10))).rejects.toBeInstanceOf(WriterClosedError);
    await closing;
    await Promise.all(writes);
    expect(await repository.countForDevice(a)).toBe(3);
    expect(await repository.countForDevice(b)).toBe(2);
    expect(writer.pendingRows).toBe(0);
    const late = writer.write(b, series(1, T0 + 10));
    await expect(late).rejects.toBeInstanceOf(WriterClosedError);
    await expect(late).rejects.toMatchObject({ code: 'writer_closed' });
  });
});

describe('TelemetryWriter batching', () => {
  it('coalesces many small writes into few batches under a slow database, within batchRows and maxInflight', async () => {
    const sizes: number[] = [];
    let active = 0;
    let maxActive = 0;
    const writer = new TelemetryWriter(options({ batchRows: 100, batchMs: 10, maxInflight: 2 }), {
      writeBatch: async (batch) => {
        sizes.push(batch.times.length);
        maxActive = Math.max(maxActive, ++active);
        await sleep(25);
        active -= 1;
      },
    });
    const writes: Promise<void>[] = [];
    for (let index = 0; index < 300; index++) {
      writes.push(writer.write(`device-${index % 7}`, series(2, T0 + index * 10)));
      if (index % 10 === 9) await nextTick();
    }
    await Promise.all(writes);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(600);
    expect(sizes.length).toBeLessThanOrEqual(12);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(maxActive).toBe(2);
  });

  it('writes at once when idle, joining the writes of the same tick', async () => {
    const { calls, writeBatch } = heldWrites();
    const writer = new TelemetryWriter(options({ batchMs: 60_000 }), { writeBatch });
    const first = track(writer.write('a', series(2)));
    writer.write('b', series(3));
    expect(calls).toHaveLength(0); // not synchronously: the rest of this tick may still join
    await nextTick();
    expect(calls.map((call) => call.batch.deviceIds)).toEqual([['a', 'a', 'b', 'b', 'b']]);
    expect(first.settled).toBe(false);
    calls[0]!.release();
    await first.promise;
    await writer.close();
  });

  it('while a batch is in flight, lets rows gather until batchMs before using the next slot', async () => {
    const { calls, writeBatch } = heldWrites();
    const writer = new TelemetryWriter(options({ batchMs: 80, maxInflight: 2 }), { writeBatch });
    writer.write('a', series(1));
    await nextTick();
    writer.write('b', series(1));
    await sleep(20);
    writer.write('c', series(1));
    await sleep(20);
    expect(calls).toHaveLength(1);
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 500, interval: 5 });
    expect(calls[1]!.batch.deviceIds).toEqual(['b', 'c']);
    for (const call of calls) call.release();
    await writer.close();
  });

  it('sends the gathered rows as soon as the pipeline goes idle, without waiting for batchMs', async () => {
    const { calls, writeBatch } = heldWrites();
    const writer = new TelemetryWriter(options({ batchMs: 60_000, maxInflight: 1 }), { writeBatch });
    writer.write('a', series(1));
    await nextTick();
    writer.write('b', series(2));
    writer.write('c', series(1));
    await sleep(10);
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 500, interval: 2 });
    expect(calls[1]!.batch.deviceIds).toEqual(['b', 'b', 'c']);
    calls[1]!.release();
    await writer.close();
  });

  it('never splits a write that fits in one batch; splits a larger one and resolves it after its last part', async () => {
    const { calls, writeBatch } = heldWrites();
    const writer = new TelemetryWriter(options({ batchRows: 100, batchMs: 60_000, maxInflight: 1 }), {
      writeBatch,
    });
    writer.write('first', series(10));
    await nextTick(); // in flight; what follows gathers
    writer.write('a', series(80));
    const fits = track(writer.write('b', series(30))); // 80 + 30 > 100: the 80 are sealed, b stays whole
    const large = track(writer.write('c', series(250)));
    const sizesOf = () => calls.map((call) => call.batch.times.length);
    for (let index = 0; index < 4; index++) {
      calls[index]!.release();
      await vi.waitFor(() => expect(calls).toHaveLength(index + 2), { timeout: 500, interval: 2 });
    }
    // [first] [a×80] [b×30, c×70] [c×100] [c×80]
    expect(sizesOf()).toEqual([10, 80, 100, 100, 80]);
    expect(calls[2]!.batch.deviceIds.slice(0, 31)).toEqual([...Array(30).fill('b'), 'c']);
    expect(fits.settled).toBe(true);
    expect(large.settled).toBe(false); // its last 80 rows are still in flight
    calls[4]!.release();
    await large.promise;
    await writer.close();
  });

  it('flush() writes pending rows without waiting for batchMs; close() leaves no timers behind', async () => {
    const baseline = activeTimers();
    const { calls, writeBatch } = heldWrites();
    const writer = new TelemetryWriter(options({ batchMs: 60_000, maxInflight: 1 }), { writeBatch });
    writer.write('a', series(1));
    await nextTick();
    writer.write('b', series(4));
    expect(activeTimers()).toBeGreaterThan(baseline); // b's batchMs timer
    const flushed = track(writer.flush());
    calls[0]!.release();
    await vi.waitFor(() => expect(calls).toHaveLength(2), { timeout: 500, interval: 2 });
    expect(flushed.settled).toBe(false);
    calls[1]!.release();
    await flushed.promise;
    expect(writer.pendingRows).toBe(0);
    await writer.close();
    expect(activeTimers()).toBe(baseline);
  });

  it('during an outage probes with one batch at a time, oldest first, and resumes on any success', async () => {
    const { calls, writeBatch } = heldWrites();
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const writer = new TelemetryWriter(options({ batchRows: 2, maxInflight: 2 }), { writeBatch, log });
    const first = track(writer.write('a', series(2)));
    const second = track(writer.write('b', series(2)));
    expect(calls).toHaveLength(2);
    calls[0]!.fail(new Error('connection reset'));
    await sleep(150); // past the first backoff (at most 100 ms), but b is still in flight: no probe beside it
    expect(calls).toHaveLength(2);
    calls[1]!.fail(new Error('connection reset'));
    await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 1000, interval: 5 });
    expect(calls[2]!.batch).toBe(calls[0]!.batch); // the oldest batch probes, unchanged
    await sleep(30);
    expect(calls).toHaveLength(3); // and alone
    calls[2]!.release();
    await vi.waitFor(() => expect(calls).toHaveLength(4), { timeout: 500, interval: 2 });
    expect(calls[3]!.batch).toBe(calls[1]!.batch);
    calls[3]!.release();
    await Promise.all([first.promise, second.promise]);
    expect(log.error).toHaveBeenCalledOnce();
    expect(log.info).toHaveBeenCalledOnce();
    expect(log.info.mock.calls[0]![0]).toMatchObject({ failedAttempts: 2, rowsWritten: 2, backlogRows: 2 });
    await writer.close();
  });

  it('keeps acknowledging writes when a hook throws', async () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const writer = new TelemetryWriter(options(), {
      writeBatch: async () => undefined,
      onCommitted: () => {
        throw new Error('listener bug');
      },
      log,
    });
    await writer.write('a', series(3));
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ hook: 'onCommitted' }), expect.any(String));
    await writer.close();
  });
});

describe('TelemetryWriter pressure', () => {
  it('signals high once above highWaterRows and low once below lowWaterRows, never refusing rows', async () => {
    const { calls, writeBatch } = heldWrites();
    const signals: boolean[] = [];
    const writer = new TelemetryWriter(
      options({ batchRows: 4, batchMs: 5, maxInflight: 1, highWaterRows: 10, lowWaterRows: 5 }),
      { writeBatch, onPressure: (high) => signals.push(high) },
    );
    const writes = [writer.write('a', series(4)), writer.write('b', series(4))];
    expect(signals).toEqual([]);
    writes.push(writer.write('c', series(4))); // 12 > 10
    expect(signals).toEqual([true]);
    expect(writer.underPressure).toBe(true);
    writes.push(writer.write('d', series(2))); // accepted all the same, no second signal
    expect(writer.pendingRows).toBe(14);
    expect(signals).toEqual([true]);

    const expected = [
      [10, [true]], // 10 is not below 5
      [6, [true]],
      [2, [true, false]],
      [0, [true, false]],
    ] as const;
    for (const [index, [pendingRows, signalled]] of expected.entries()) {
      await vi.waitFor(() => expect(calls).toHaveLength(index + 1), { timeout: 500, interval: 2 });
      calls[index]!.release();
      await vi.waitFor(() => expect(writer.pendingRows).toBe(pendingRows), { timeout: 500, interval: 2 });
      expect(signals).toEqual(signalled);
    }
    expect(writer.underPressure).toBe(false);
    await Promise.all(writes);
    await writer.close();
  });
});
