import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AggregateFreshnessReader, createDatabaseClient, runMigrations, TelemetryRepository } from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/hub-config.js';
import { openDatabase } from '../src/database/open-database.js';
import { HubEvents } from '../src/events/hub-events.js';
import { AggregateRefresher } from '../src/timescale/aggregate-refresher.service.js';

const DAY = 86_400_000;

function capturingLogger() {
  const lines: { level: number; msg: string; command?: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { logger, lines };
}

// The hub's start on TimescaleDB (PGlite; the hub itself needs more than PGlite's one session, so its database
// start and its aggregate refresher are run here on their own).
describe('hub start-up on TimescaleDB', () => {
  const servers: TimescalePglite[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('names the conversion command when TimescaleDB is installed but telemetry is a plain table', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'telehub-plain-'));
    dirs.push(dataDir);
    const plain = await startTimescalePglite({ dataDir, timescale: false });
    const client = createDatabaseClient(plain.url, { maxConnections: 1 });
    await runMigrations(client);
    await client.close();
    await plain.stop();

    const server = await startTimescalePglite({ dataDir });
    servers.push(server);
    const admin = createDatabaseClient(server.url, { maxConnections: 1 });
    await admin.sql`CREATE EXTENSION timescaledb`;
    await admin.close();
    const { logger, lines } = capturingLogger();
    const database = await openDatabase(loadConfig({ DATABASE_URL: server.url, TELEHUB_DB_POOL_SIZE: '1' }), logger);
    try {
      expect(database.mode).toBe('postgresql');
      expect(database.compressionAgeMs).toBeUndefined();
      const warning = lines.find((line) => line.level === 40);
      expect(warning?.msg).toMatch(/TimescaleDB is installed.*npm run db:convert-timescale/);
      expect(warning?.command).toContain('node dist/libs/db/src/cli/convert-timescale.js');
    } finally {
      await database.close();
    }
  }, 120_000);

  it('fills the aggregates once at start, and refreshes late rows after they commit', async () => {
    const server = await startTimescalePglite();
    servers.push(server);
    const { logger } = capturingLogger();
    const config = loadConfig({
      DATABASE_URL: server.url,
      TELEHUB_DB_POOL_SIZE: '1',
      TELEHUB_AGGREGATE_REFRESH_DELAY_MS: '50',
    });
    const database = await openDatabase(config, logger);
    try {
      expect(database.mode).toBe('timescaledb');
      // Issue 12, item 3: rows this old go to the late writer (TelemetryLanes): compress_after (7 days) less one
      // one-day chunk, the youngest a chunk the compression policy may be compressing can hold.
      expect(database.compressionAgeMs).toBe(6 * DAY);
      // Rows stored before the start (a conversion, an import): the aggregates are empty.
      const device = '00000000-0000-4000-8000-000000000001';
      const now = Date.now();
      const telemetry = new TelemetryRepository(database.client);
      await telemetry.insertBatch({ times: [now - 3 * DAY], deviceIds: [device], metrics: ['temp'], values: [1] });
      const events = new HubEvents();
      const refresher = new AggregateRefresher(database.client, database.mode, config, events, logger);
      // What telemetry_1h has materialized: its watermark, and the late ranges it has not refreshed yet.
      const freshness = async () => {
        const read = await new AggregateFreshnessReader().read(database.client.sql, 'telemetry_1h', {
          fromMs: now - 4 * DAY,
          toMs: now,
        });
        // Without the open range from the end of the last refresh on (the hours still filling).
        return { ...read, invalidated: read.invalidated.filter(([, high]) => Number.isFinite(high)) };
      };
      expect((await freshness()).watermarkMs).toBeLessThan(now - 4 * DAY);
      refresher.onApplicationBootstrap();
      await refresher.idle();
      expect((await freshness()).watermarkMs).toBeGreaterThan(now - 3 * DAY);
      expect((await freshness()).invalidated).toEqual([]);

      // A committed batch with a row 2 days old: refreshed after TELEHUB_AGGREGATE_REFRESH_DELAY_MS.
      const late = { times: [now - 2 * DAY], deviceIds: [device], metrics: ['temp'], values: [2] };
      await telemetry.insertBatch(late);
      expect((await freshness()).invalidated).toEqual([[now - 2 * DAY, now - 2 * DAY]]);
      events.emit({ type: 'telemetry', batch: late, committedAt: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await refresher.idle();
      expect((await freshness()).invalidated).toEqual([]);
      const [row] = await database.client.sql<{ count: string }[]>`
        SELECT sum(count)::text AS count FROM telemetry_1h WHERE device_id = ${device}`;
      expect(row?.count).toBe('2');
      await refresher.onModuleDestroy();
    } finally {
      await database.close();
    }
  }, 120_000);
});
