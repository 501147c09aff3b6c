import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseClient, type DatabaseClient } from '../src/client.js';
import { runMigrations } from '../src/migrate.js';
import { findMigrationsFolder } from '../src/migrations-folder.js';
import { DeviceListRepository } from '../src/repositories/device-list.repository.js';
import { DevicePresenceRepository } from '../src/repositories/device-presence.repository.js';

/** The migration that moved last-seen times into their own table (its number is the journal's business). */
const MIGRATION_SUFFIX = '_device_last_seen';

// Last-seen times in device_last_seen: carried over by the migration, a row made with every device however it is
// inserted, and the list's last-seen order served by walking that table's index, never a sort of the fleet.
describe('device_last_seen', () => {
  describe('the migration', () => {
    const name = `migrate_last_seen_${randomUUID().slice(0, 8)}`;
    const adminUrl = inject('postgresAdminUrl');
    let client: DatabaseClient;
    const folders: string[] = [];

    beforeAll(async () => {
      const admin = postgres(adminUrl, { max: 1 });
      await admin.unsafe(`CREATE DATABASE ${name}`);
      await admin.end();
      client = createDatabaseClient(adminUrl.replace(/\/postgres$/, `/${name}`), { maxConnections: 1 });
    });

    afterAll(async () => {
      await client.close();
      for (const folder of folders) await rm(folder, { recursive: true, force: true });
      const admin = postgres(adminUrl, { max: 1 });
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });

    /** The migrations folder with a journal that stops before the migration (past 0) or after it (past 1). */
    async function migrationsUpTo(past: 0 | 1): Promise<string> {
      const folder = await mkdtemp(join(tmpdir(), 'telehub-migrations-'));
      folders.push(folder);
      await cp(findMigrationsFolder(), folder, { recursive: true });
      const journalFile = join(folder, 'meta', '_journal.json');
      const journal = JSON.parse(await readFile(journalFile, 'utf8'));
      const index = journal.entries.findIndex((entry: { tag: string }) => entry.tag.endsWith(MIGRATION_SUFFIX));
      expect(index).toBeGreaterThan(0);
      journal.entries = journal.entries.slice(0, index + past);
      await writeFile(journalFile, JSON.stringify(journal));
      return folder;
    }

    it('carries every device’s last-seen time over, and drops the column from devices', async () => {
      await runMigrations(client, await migrationsUpTo(0));
      const sql = client.sql;
      await sql`INSERT INTO devices (id, name, last_seen_at) VALUES
        ('00000000-0000-7000-8000-000000000001', 'seen', '2026-03-04T05:06:07.123456Z'),
        ('00000000-0000-7000-8000-000000000002', 'never', NULL)`;

      expect((await runMigrations(client, await migrationsUpTo(1))).applied).toBe(1);

      const rows = await sql<{ name: string; seen: string | null }[]>`
        SELECT d.name, to_char(s.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS seen
        FROM devices AS d JOIN device_last_seen AS s ON s.device_id = d.id ORDER BY d.name`;
      expect(rows).toEqual([
        { name: 'never', seen: null },
        { name: 'seen', seen: '2026-03-04T05:06:07.123456' },
      ]);
      const [column] = await sql`
        SELECT 1 FROM information_schema.columns WHERE table_name = 'devices' AND column_name = 'last_seen_at'`;
      expect(column).toBeUndefined();
    });
  });

  describe('on a migrated database', () => {
    let database: TestDatabase;
    /** One connection: the planner statistics read below are this backend's own. */
    let client: DatabaseClient;

    beforeAll(async () => {
      database = await createTestDatabase();
      client = createDatabaseClient(database.url, { maxConnections: 1 });
    });
    afterAll(async () => {
      await client?.close();
      await database?.drop();
    });

    it('makes a row, never seen, for every device inserted, one at a time or many at once, and drops it with it', async () => {
      const sql = client.sql;
      const [one] = await sql<{ id: string }[]>`INSERT INTO devices (name) VALUES ('one') RETURNING id`;
      await sql`INSERT INTO devices (name) SELECT 'many-' || i FROM generate_series(1, 3) AS i`;
      const rows = await sql<{ name: string; seen: Date | null }[]>`
        SELECT d.name, s.last_seen_at AS seen FROM devices AS d LEFT JOIN device_last_seen AS s ON s.device_id = d.id
        WHERE d.name = 'one' OR d.name LIKE 'many-%' ORDER BY d.name`;
      expect(rows).toEqual(['many-1', 'many-2', 'many-3', 'one'].map((name) => ({ name, seen: null })));

      await new DevicePresenceRepository(client).touchLastSeen([one!.id], Date.parse('2026-05-01T00:00:00Z'));
      const [seen] = await sql<{ at: number }[]>`
        SELECT (extract(epoch FROM last_seen_at) * 1000)::float8 AS at FROM device_last_seen WHERE device_id = ${one!.id}`;
      expect(seen!.at).toBe(Date.parse('2026-05-01T00:00:00Z'));

      await sql`DELETE FROM devices WHERE id = ${one!.id}`;
      expect(await sql`SELECT 1 FROM device_last_seen WHERE device_id = ${one!.id}`).toHaveLength(0);
    });

    it('pages a fleet by last seen walking device_last_seen_key_idx, without reading every device', async () => {
      const sql = client.sql;
      // 20,000 devices seen a second apart (fleet-i at i seconds), every tenth never; a quarter active.
      await sql`INSERT INTO devices (name, labels, active)
        SELECT 'fleet-' || i, ARRAY['fleet'], i % 4 = 1 FROM generate_series(1, 20000) AS i`;
      await sql`
        UPDATE device_last_seen AS s
        SET last_seen_at = CASE WHEN d.name LIKE '%0' THEN NULL
          ELSE '2026-01-01'::timestamptz + substr(d.name, 7)::int * interval '1 second' END
        FROM devices AS d WHERE d.id = s.device_id AND d.name LIKE 'fleet-%'`;
      await sql`ANALYZE devices`;
      await sql`ANALYZE device_last_seen`;
      const list = new DeviceListRepository(client);

      const before = await scans();
      const newest = await list.list({ labels: [], statuses: [], sort: 'lastSeen', descending: true, limit: 50 });
      const next = await list.list({
        labels: [],
        statuses: [],
        sort: 'lastSeen',
        descending: true,
        limit: 50,
        after: newest.last,
      });
      const offline = await list.list({
        labels: [],
        statuses: ['offline'],
        sort: 'lastSeen',
        descending: false,
        limit: 50,
      });
      const active = await list.list({
        labels: [],
        statuses: ['active'],
        sort: 'lastSeen',
        descending: false,
        limit: 3,
      });
      const after = await scans();

      expect(newest.rows.map((row) => row.name).slice(0, 3)).toEqual(['fleet-19999', 'fleet-19998', 'fleet-19997']);
      expect(next.rows[0]!.name).toBe('fleet-19944'); // 50 seen devices after fleet-19999, skipping the never seen
      expect(newest.rows[0]!.lastSeenAt).toEqual(new Date(Date.parse('2026-01-01T00:00:00Z') + 19_999_000));
      // Never-seen devices first (the earliest), then the least recently seen; offline only.
      expect(offline.rows.every((row) => !row.active && !row.online)).toBe(true);
      expect(offline.rows[0]!.lastSeenAt).toBeNull();
      expect(active.rows.map((row) => row.name)).toEqual(['fleet-1', 'fleet-5', 'fleet-9']);
      // Each request walked the index (a plan may walk it more than once); none read a table through.
      expect(after.keyIndexScans - before.keyIndexScans).toBeGreaterThanOrEqual(4);
      expect(after.sequentialScans).toBe(before.sequentialScans);
    });

    /** Index scans of device_last_seen_key_idx and sequential scans of devices and device_last_seen so far. */
    async function scans(): Promise<{ keyIndexScans: number; sequentialScans: number }> {
      // This backend's counts reach the shared statistics when its transaction ends: force that, then read afresh.
      await client.sql`SELECT pg_stat_force_next_flush()`;
      await client.sql`SELECT pg_stat_clear_snapshot()`;
      const [row] = await client.sql<{ key: number; seq: number }[]>`
        SELECT (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'device_last_seen_key_idx')::int AS key,
          (SELECT sum(seq_scan) FROM pg_stat_user_tables WHERE relname IN ('devices', 'device_last_seen'))::int AS seq`;
      return { keyIndexScans: row!.key, sequentialScans: row!.seq };
    }
  });
});
