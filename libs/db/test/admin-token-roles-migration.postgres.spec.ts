import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseClient, type DatabaseClient, findMigrationsFolder, runMigrations } from '@telehub/db';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROLES_MIGRATION = '0005_admin_token_roles';

// Starts from a database migrated up to just before the roles migration, with admin tokens as the hub made
// them then, to check what the migration makes of them.
describe('migration 0005: admin token roles, sources and expiry', () => {
  const name = `migrate_roles_${randomUUID().slice(0, 8)}`;
  const adminUrl = inject('postgresAdminUrl');
  let client: DatabaseClient;
  let before: string;

  beforeAll(async () => {
    const admin = postgres(adminUrl, { max: 1 });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    client = createDatabaseClient(adminUrl.replace(/\/postgres$/, `/${name}`), { maxConnections: 1 });
    // The migrations folder as it was before this migration: the same files, a journal that stops before it.
    before = await mkdtemp(join(tmpdir(), 'telehub-migrations-'));
    await cp(findMigrationsFolder(), before, { recursive: true });
    const journalFile = join(before, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8'));
    const index = journal.entries.findIndex((entry: { tag: string }) => entry.tag === ROLES_MIGRATION);
    expect(index).toBeGreaterThan(0);
    journal.entries = journal.entries.slice(0, index);
    await writeFile(journalFile, JSON.stringify(journal));
  });

  afterAll(async () => {
    await client.close();
    await rm(before, { recursive: true, force: true });
    const admin = postgres(adminUrl, { max: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('makes every earlier token an admin, its source from how the hub named it, without expiry', async () => {
    await runMigrations(client, before);
    const sql = client.sql;
    await sql`INSERT INTO admin_tokens (name, token_hash, hint, revoked_at) VALUES
      ('environment', '\\x01', 'tha_…0001', NULL),
      ('environment', '\\x02', 'tha_…0002', NULL),
      ('initial', '\\x03', 'tha_…0003', NULL),
      ('someone', '\\x04', 'tha_…0004', now())`;

    expect((await runMigrations(client)).applied).toBe(1);

    const rows = await sql<{ hint: string; role: string; source: string; expires_at: Date | null; revoked: boolean }[]>`
      SELECT hint, role, source, expires_at, revoked_at IS NOT NULL AS revoked FROM admin_tokens ORDER BY hint`;
    expect(rows).toEqual([
      { hint: 'tha_…0001', role: 'admin', source: 'environment', expires_at: null, revoked: false },
      { hint: 'tha_…0002', role: 'admin', source: 'environment', expires_at: null, revoked: false },
      { hint: 'tha_…0003', role: 'admin', source: 'bootstrap', expires_at: null, revoked: false },
      { hint: 'tha_…0004', role: 'admin', source: 'api', expires_at: null, revoked: true },
    ]);
  });

  it('leaves no default role: a new token must say its role, and only known roles and sources are stored', async () => {
    const sql = client.sql;
    await expect(
      sql`INSERT INTO admin_tokens (name, token_hash, hint, source) VALUES ('x', '\\x05', 'h', 'api')`,
    ).rejects.toMatchObject({ code: '23502' });
    await expect(
      sql`INSERT INTO admin_tokens (name, token_hash, hint, role, source) VALUES ('x', '\\x06', 'h', 'root', 'api')`,
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      sql`INSERT INTO admin_tokens (name, token_hash, hint, role, source) VALUES ('x', '\\x07', 'h', 'viewer', 'mail')`,
    ).rejects.toMatchObject({ code: '23514' });
  });
});
