import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataEncodingError, isDataError, sqlStateOf } from '../src/database-errors.js';
import { type TelemetryBatch, TelemetryRepository } from '../src/repositories/telemetry.repository.js';
import type { TelemetryCopyFormat } from '../src/repositories/telemetry-copy.js';

const FORMATS: TelemetryCopyFormat[] = ['binary', 'text'];
const params = { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? 20261216) };
const T0 = Date.UTC(2026, 0, 1);

/** Characters the text format gives a meaning, beside ordinary and multi-byte ones (no NUL: see the refusals). */
const metricUnit = fc.oneof(
  fc.constantFrom('\\', '\t', '\n', '\r', '.', ' ', ',', '"', "'", '{', '}', 'N', 'é', '€', '😀', '\\.', '\\N'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const metric = fc.string({ unit: metricUnit, minLength: 1, maxLength: 12 }).filter((text) => !text.includes('\u0000'));
/** Epoch ms from 1970 to 2100 and a microsecond part, as devices send them (RFC 3339 with µs). */
const time = fc.tuple(fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }), fc.integer({ min: 0, max: 999 }));
const value = fc.double({ noNaN: true, noDefaultInfinity: true });
const row = fc.record({ time, metric, value, device: fc.integer({ min: 0, max: 2 }) });
type Row = { time: [ms: number, micros: number]; metric: string; value: number; device: number };

interface StoredRow {
  micros: string;
  deviceId: string;
  metric: string;
  value: number;
}

describe('COPY write path against PostgreSQL', () => {
  let database: TestDatabase;
  let repository: TelemetryRepository;
  beforeAll(async () => {
    database = await createTestDatabase();
    repository = new TelemetryRepository(database.client);
  });
  afterAll(() => database?.drop());

  /** The rows of these devices as stored, times as exact microseconds since 1970. */
  async function stored(deviceIds: string[]): Promise<StoredRow[]> {
    return database.client.sql<StoredRow[]>`
      SELECT (extract(epoch FROM time) * 1000000)::numeric(30, 0)::text AS micros, device_id AS "deviceId", metric, value
      FROM telemetry WHERE device_id = ANY(${deviceIds}::uuid[])`;
  }

  async function openTransactions(): Promise<number> {
    const [row] = await database.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    return row!.count;
  }

  function batchOf(rows: Row[], devices: string[]) {
    const batch: TelemetryBatch = { times: [], deviceIds: [], metrics: [], values: [] };
    for (const each of rows) {
      batch.times.push(each.time[0] + each.time[1] / 1000);
      batch.deviceIds.push(devices[each.device]!);
      batch.metrics.push(each.metric);
      batch.values.push(each.value);
    }
    return batch;
  }

  it.each(FORMATS)(
    '%s: stores exactly what was sent: times to the µs, any metric name, any finite value',
    async (format) => {
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), async (rows) => {
          const devices = [randomUUID(), randomUUID(), randomUUID()];
          const empty = { times: [], deviceIds: [], metrics: [], values: [] };
          const xid = await repository.copyBatchWithLatest(batchOf(rows, devices), empty, format);
          expect(xid).toMatch(/^\d+$/);
          const expected = rows.map((each) => ({
            micros: (BigInt(each.time[0]) * 1000n + BigInt(each.time[1])).toString(),
            deviceId: devices[each.device]!,
            metric: each.metric,
            // The text format writes -0 as JavaScript prints it ("0"), as the INSERT statement's arrays did.
            value: each.value === 0 ? 0 : each.value,
          }));
          const byKey = (a: StoredRow, b: StoredRow) =>
            BigInt(a.micros) === BigInt(b.micros)
              ? a.metric < b.metric
                ? -1
                : a.metric > b.metric
                  ? 1
                  : a.value - b.value
              : BigInt(a.micros) < BigInt(b.micros)
                ? -1
                : 1;
          const actual = (await stored(devices)).map((each) => ({ ...each, value: each.value === 0 ? 0 : each.value }));
          expect(actual.sort(byKey)).toEqual(expected.sort(byKey));
        }),
        params,
      );
    },
  );

  it.each(FORMATS)(
    '%s: commits the rows and the newest values together, answering the transaction id',
    async (format) => {
      const device = randomUUID();
      const batch: TelemetryBatch = {
        times: [T0, T0 + 1, T0 + 2],
        deviceIds: [device, device, device],
        metrics: ['temp', 'hum', 'temp'],
        values: [1, 50, 2],
      };
      const latest: TelemetryBatch = {
        times: [T0 + 1, T0 + 2],
        deviceIds: [device, device],
        metrics: ['hum', 'temp'],
        values: [50, 2],
      };
      const xid = await repository.copyBatchWithLatest(batch, latest, format);
      const [visible] = await database.client.sql<{ mine: boolean }[]>`
      SELECT (xmin::text = ${xid!}::xid8::xid::text) AS mine FROM telemetry WHERE device_id = ${device} LIMIT 1`;
      expect(visible!.mine).toBe(true);
      expect(await repository.countForDevice(device)).toBe(3);
      expect((await repository.latestForDevice(device)).map((row) => [row.metric, row.value])).toEqual([
        ['hum', 50],
        ['temp', 2],
      ]);
    },
  );

  describe("refusals: the server's data error (SQLSTATE 22/23), nothing committed, the connection usable", () => {
    it.each(FORMATS)('%s: a CHECK constraint refuses a row early or late in a large batch', async (format) => {
      await database.client
        .sql`ALTER TABLE telemetry ADD CONSTRAINT copy_sane_value CHECK (value > -1000000) NOT VALID`;
      try {
        for (const poisonRow of [3, 19_990]) {
          const device = randomUUID();
          const rows = 20_000;
          const batch: TelemetryBatch = {
            times: Array.from({ length: rows }, (_, index) => T0 + index),
            deviceIds: Array(rows).fill(device),
            metrics: Array(rows).fill('temp'),
            values: Array.from({ length: rows }, (_, index) => (index === poisonRow ? -5e6 : index)),
          };
          const latest = { times: [T0], deviceIds: [device], metrics: ['temp'], values: [1] };
          const error = await repository.copyBatchWithLatest(batch, latest, format).catch((caught) => caught);
          expect(error).toMatchObject({ name: 'PostgresError', code: '23514' });
          expect(isDataError(error)).toBe(true);
          expect(await repository.countForDevice(device)).toBe(0);
          expect(await repository.latestForDevice(device)).toEqual([]);
        }
        expect(await openTransactions()).toBe(0);
      } finally {
        await database.client.sql`ALTER TABLE telemetry DROP CONSTRAINT copy_sane_value`;
      }
      const device = randomUUID();
      const one = { times: [T0], deviceIds: [device], metrics: ['temp'], values: [1] };
      await repository.copyBatchWithLatest(one, one, format);
      expect(await repository.countForDevice(device)).toBe(1);
    });

    it.each(FORMATS)(
      '%s: a NUL character in a metric name is refused as PostgreSQL refuses it (22021)',
      async (format) => {
        const device = randomUUID();
        const batch = { times: [T0, T0], deviceIds: [device, device], metrics: ['ok', 'bad\u0000'], values: [1, 2] };
        const error = await repository.copyBatchWithLatest(batch, batch, format).catch((caught) => caught);
        expect(sqlStateOf(error)).toBe('22021');
        expect(await repository.countForDevice(device)).toBe(0);
        expect(await openTransactions()).toBe(0);
      },
    );

    it('a device id that is not a UUID: 22P02, from the encoder (binary) or from the server (text)', async () => {
      const batch = { times: [T0], deviceIds: ['device-1'], metrics: ['temp'], values: [1] };
      const binary = await repository.copyBatchWithLatest(batch, batch, 'binary').catch((caught) => caught);
      expect(binary).toBeInstanceOf(DataEncodingError);
      const text = await repository.copyBatchWithLatest(batch, batch, 'text').catch((caught) => caught);
      expect(text).toMatchObject({ name: 'PostgresError' });
      for (const error of [binary, text]) {
        expect(sqlStateOf(error)).toBe('22P02');
        expect(isDataError(error)).toBe(true);
      }
      expect(await openTransactions()).toBe(0);
    });
  });
});
