import { randomUUID } from 'node:crypto';
import { DeviceEventRepository } from '@telehub/db';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HubConfig } from '../src/config/hub-config.js';
import { DeviceEventRecorder } from '../src/events/device-event.recorder.js';
import { HubEvents } from '../src/events/hub-events.js';
import { HubMetrics } from '../src/metrics/hub-metrics.js';

const config = {
  payloads: { eventStringMaxBytes: 64 },
  deviceEvents: { flushIntervalMs: 250, maxBuffered: 10_000 },
} as HubConfig;

function spyLogger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
}

async function droppedCount(metrics: HubMetrics, reason: string): Promise<number> {
  const metric = await metrics.deviceEventsDropped.get();
  return metric.values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

describe('DeviceEventRecorder against PostgreSQL', () => {
  let database: TestDatabase;
  let repository: DeviceEventRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    repository = new DeviceEventRepository(database.client);
  });
  afterAll(async () => {
    await database?.drop();
  });

  function recorder(logger = spyLogger(), metrics = new HubMetrics()) {
    const hubEvents = new HubEvents();
    const emitted: string[] = [];
    hubEvents.on('device_event', (event) => emitted.push(String(event.detail.n)));
    const instance = new DeviceEventRecorder(repository, hubEvents, metrics, config, logger as unknown as Logger);
    return { instance, logger, metrics, emitted };
  }

  async function storedDetails(deviceId: string) {
    return database.client.sql<{ detail: Record<string, unknown> }[]>`
      SELECT detail FROM device_events WHERE device_id = ${deviceId} ORDER BY id`;
  }

  it('stores untrusted strings cleaned of U+0000 and lone surrogates, cut to the byte limit', async () => {
    const { instance } = recorder();
    const deviceId = randomUUID();
    instance.record(deviceId, 'auth_failed', {
      clientId: 'evil\u0000id',
      topic: 'devices/\ud800/x',
      'key\u0000': 'v',
      long: 'z'.repeat(1000),
      nested: { list: ['\udc00'] },
    });
    await instance.flush();
    const [row] = await storedDetails(deviceId);
    expect(row?.detail).toEqual({
      clientId: 'evil\ufffdid',
      topic: 'devices/\ufffd/x',
      'key\ufffd': 'v',
      long: `${'z'.repeat(48)}… (1000 bytes)`,
      nested: { list: ['\ufffd'] },
    });
    expect(Buffer.byteLength(row!.detail.long as string)).toBeLessThanOrEqual(64);
    await instance.onModuleDestroy();
  });

  it('drops only the events the database refuses, writes the others, and goes on', async () => {
    // A check an operator added: a data error (23514) the recorder cannot clean away.
    await database.client.sql`ALTER TABLE device_events ADD CONSTRAINT no_poison CHECK (NOT detail ? 'poison')`;
    try {
      const { instance, logger, metrics, emitted } = recorder();
      const deviceId = randomUUID();
      for (let n = 0; n < 9; n++) instance.record(deviceId, 'message_rejected', n === 6 ? { n, poison: 1 } : { n });
      await instance.flush();
      const written = await storedDetails(deviceId);
      expect(written.map((row) => row.detail.n)).toEqual([0, 1, 2, 3, 4, 5, 7, 8]);
      expect(emitted).toEqual(['0', '1', '2', '3', '4', '5', '7', '8']);
      expect(await droppedCount(metrics, 'refused_by_database')).toBe(1);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ deviceId, type: 'message_rejected' }),
        expect.stringMatching(/refused a device event/),
      );
      instance.record(deviceId, 'connected', { n: 9 });
      await instance.flush();
      expect((await storedDetails(deviceId)).map((row) => row.detail.n)).toContain(9);
      await instance.onModuleDestroy();
    } finally {
      await database.client.sql`ALTER TABLE device_events DROP CONSTRAINT no_poison`;
    }
  });

  it('writes each event once when the database goes away while a refused batch is being split', async () => {
    const sql = database.client.sql;
    await sql`ALTER TABLE device_events ADD CONSTRAINT no_poison CHECK (NOT detail ? 'poison')`;
    // The database goes away part-way through the split: a trigger answers as a server that is starting up
    // (57P03, an availability error, not a data error) for one of the events.
    await sql.unsafe(`CREATE FUNCTION device_events_outage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.detail ? 'outage' THEN RAISE EXCEPTION 'the database is starting up' USING ERRCODE = '57P03'; END IF;
        RETURN NEW;
      END $$`);
    await sql`CREATE TRIGGER device_events_outage BEFORE INSERT ON device_events
      FOR EACH ROW EXECUTE FUNCTION device_events_outage()`;
    try {
      const { instance, metrics, emitted } = recorder();
      const deviceId = randomUUID();
      // Split in halves: [0, 1 (refused)] is written without 1, then [2, 3] meets the outage.
      for (const detail of [{ n: 0 }, { n: 1, poison: 1 }, { n: 2 }, { n: 3, outage: 1 }]) {
        instance.record(deviceId, 'message_rejected', detail);
      }
      await instance.flush();
      expect((await storedDetails(deviceId)).map((row) => row.detail.n)).toEqual([0]);
      expect(emitted).toEqual(['0']);
      await sql`DROP TRIGGER device_events_outage ON device_events`;
      await instance.flush();
      expect((await storedDetails(deviceId)).map((row) => row.detail.n)).toEqual([0, 2, 3]);
      expect(emitted).toEqual(['0', '2', '3']);
      expect(await droppedCount(metrics, 'refused_by_database')).toBe(1);
      await instance.onModuleDestroy();
    } finally {
      await sql`DROP TRIGGER IF EXISTS device_events_outage ON device_events`;
      await sql`DROP FUNCTION device_events_outage()`;
      await sql`ALTER TABLE device_events DROP CONSTRAINT no_poison`;
    }
  });

  it('says the buffer was full because events came too fast when the database was up', async () => {
    const { instance, logger, metrics } = recorder();
    const deviceId = randomUUID();
    for (let n = 0; n < 10_005; n++) instance.record(deviceId, 'message_rejected', { n });
    await instance.flush();
    expect(await droppedCount(metrics, 'buffer_full')).toBe(5);
    const [detail, message] = logger.warn.mock.calls.at(-1)!;
    expect(detail).toMatchObject({ dropped: 5, failedWrites: 0 });
    expect(message).toMatch(/faster than the database took them/);
    expect(message).not.toMatch(/unavailable/);
    await instance.onModuleDestroy();
  });

  it('keeps events while the database is unavailable, and says so when it drops some', async () => {
    const failing = { insertMany: vi.fn().mockRejectedValue(new Error('connect ECONNREFUSED')) };
    const logger = spyLogger();
    const metrics = new HubMetrics();
    const instance = new DeviceEventRecorder(
      failing as unknown as DeviceEventRepository,
      new HubEvents(),
      metrics,
      config,
      logger as unknown as Logger,
    );
    for (let n = 0; n < 10; n++) instance.record(null, 'auth_failed', { n });
    await instance.flush();
    await instance.flush();
    expect(logger.warn).toHaveBeenCalledOnce();
    for (let n = 0; n < 10_000; n++) instance.record(null, 'auth_failed', { n });
    failing.insertMany.mockResolvedValue(undefined);
    await instance.flush();
    const written = failing.insertMany.mock.calls.at(-1)![0] as unknown[];
    expect(written).toHaveLength(10_000);
    expect(await droppedCount(metrics, 'buffer_full')).toBe(10);
    expect(logger.warn.mock.calls.at(-1)![1]).toMatch(/while the database was unavailable/);
    expect(logger.info).toHaveBeenCalledWith({ failedWrites: 2 }, 'device events are written again');
    await instance.onModuleDestroy();
  });
});
