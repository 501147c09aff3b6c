import { randomUUID } from 'node:crypto';
import {
  countApplied,
  countMigrationFiles,
  createDatabaseClient,
  type DatabaseClient,
  deleteExpiredTelemetry,
  detectDatabaseMode,
  runMigrations,
  TelemetryRepository,
} from '@telehub/db';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// This file starts from an empty database (not the migrated template) to test the migrations themselves.
describe('migrations on plain PostgreSQL', () => {
  const name = `migrate_${randomUUID().slice(0, 8)}`;
  const adminUrl = inject('postgresAdminUrl');
  let client: DatabaseClient;

  beforeAll(async () => {
    const admin = postgres(adminUrl, { max: 1 });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    client = createDatabaseClient(adminUrl.replace(/\/postgres$/, `/${name}`), { maxConnections: 1 });
  });

  afterAll(async () => {
    await client.close();
    const admin = postgres(adminUrl, { max: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('applies every migration once; a second run is a no-op', async () => {
    const total = countMigrationFiles();
    expect(await countApplied(client)).toBe(0);
    expect(await runMigrations(client)).toEqual({ applied: total, total });
    expect(await runMigrations(client)).toEqual({ applied: 0, total });
    expect(await countApplied(client)).toBe(total);
  });

  it('creates the tables and the telemetry index, and stays in plain mode without TimescaleDB', async () => {
    const tables = await client.sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['admin_tokens', 'device_tokens', 'devices', 'telemetry']),
    );
    const [index] = await client.sql<{ indexdef: string }[]>`
      SELECT indexdef FROM pg_indexes WHERE indexname = 'telemetry_device_metric_time_idx'`;
    expect(index?.indexdef).toMatch(/\(device_id, metric, "time" DESC\)$/);
    expect(await detectDatabaseMode(client)).toBe('postgresql');
  });

  it('stores a batch through the repository and applies retention by deleting old rows', async () => {
    const telemetry = new TelemetryRepository(client);
    const device = randomUUID();
    const old = Date.now() - 40 * 24 * 3600 * 1000;
    const now = Date.now();
    const written = await telemetry.insertBatch({
      times: [old, now, now],
      deviceIds: [device, device, device],
      metrics: ['temp', 'temp', 'hum'],
      values: [1.5, 21.25, 40],
    });
    expect(written).toBe(3);
    expect(await deleteExpiredTelemetry(client, 30)).toBe(1);
    const rows = await client.sql<{ metric: string; value: number }[]>`
      SELECT metric, value FROM telemetry WHERE device_id = ${device} ORDER BY metric`;
    expect(rows).toEqual([
      { metric: 'hum', value: 40 },
      { metric: 'temp', value: 21.25 },
    ]);
  });
});
