import {
  countMigrationFiles,
  createDatabaseClient,
  type DatabaseClient,
  DeviceListRepository,
  runMigrations,
} from '@telehub/db';
import { startTimescalePglite, type TimescalePglite } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NAMES = ['pump-04', 'Hall-04B', 'x-40'];

async function migratedWithDevices(options: { pgTrgm: boolean }) {
  const server = await startTimescalePglite(options);
  const client = createDatabaseClient(server.url, { maxConnections: 1 });
  const notices: string[] = [];
  const total = countMigrationFiles();
  const noticing = createDatabaseClient(server.url, { maxConnections: 1, onNotice: (text) => notices.push(text) });
  await client.close();
  expect(await runMigrations(noticing)).toEqual({ applied: total, total });
  for (const name of NAMES) await noticing.sql`INSERT INTO devices (id, name) VALUES (gen_random_uuid(), ${name})`;
  return { server, client: noticing, notices };
}

const search = (client: DatabaseClient, text: string) =>
  new DeviceListRepository(client)
    .list({ labels: [], search: text, statuses: [], sort: 'name', descending: false, limit: 10 })
    .then((page) => page.rows.map((row) => row.name));

// The PGlite TimescaleDB build the *.timescale tests use has pg_trgm among its contrib extensions.
describe('device search on TimescaleDB (PGlite) with pg_trgm', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;
  beforeAll(async () => {
    ({ server, client } = await migratedWithDevices({ pgTrgm: true }));
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('creates the trigram indexes and searches substrings', async () => {
    expect(await new DeviceListRepository(client).searchIndexed()).toBe(true);
    expect(await search(client, '-04')).toEqual(['Hall-04B', 'pump-04']);
  });
});

// A server without contrib: the migration goes on without the indexes (a notice says why), search still answers
// by scanning, and the function makes the indexes once the extension can be created.
describe('device search without pg_trgm', () => {
  let server: TimescalePglite;
  let client: DatabaseClient;
  let notices: string[];
  beforeAll(async () => {
    ({ server, client, notices } = await migratedWithDevices({ pgTrgm: false }));
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('applies the migrations without the indexes, saying so, and still finds substrings', async () => {
    expect(notices.join('\n')).toMatch(/device search is not indexed: pg_trgm could not be used/);
    const [extension] = await client.sql`SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`;
    expect(extension).toBeUndefined();
    expect(await new DeviceListRepository(client).searchIndexed()).toBe(false);
    expect(await search(client, '-04')).toEqual(['Hall-04B', 'pump-04']);
    const [retry] = await client.sql<{ made: boolean }[]>`SELECT telehub_create_search_indexes() AS made`;
    expect(retry?.made).toBe(false);
  });
});
