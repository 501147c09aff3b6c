import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceListRepository } from '../src/repositories/device-list.repository.js';

/** Below some tens of thousands of rows a sequential scan is cheaper, and the planner rightly takes it. */
const FLEET = 100_000;

// The embedded PostgreSQL ships contrib: migration 0007 creates pg_trgm and the search indexes, and the planner
// uses them for a substring of a name or an id in a fleet of 100,000 devices.
describe('device search on PostgreSQL with pg_trgm', () => {
  let database: TestDatabase;
  let list: DeviceListRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    list = new DeviceListRepository(database.client);
    await database.client.sql`
      INSERT INTO devices (id, name, labels)
      SELECT gen_random_uuid(), 'greenhouse-' || lpad(i::text, 5, '0'), ARRAY['row:' || (i % 50)]
      FROM generate_series(1, ${FLEET}) AS i`;
    await database.client.sql`ANALYZE devices`;
  });
  afterAll(() => database?.drop());

  it('has the extension and both trigram indexes', async () => {
    const indexes = await database.client.sql<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'devices_%_trgm_idx' ORDER BY indexname`;
    expect(indexes.map((index) => index.indexname)).toEqual(['devices_id_trgm_idx', 'devices_name_trgm_idx']);
    expect(indexes[0]!.indexdef).toMatch(/USING gin \(\(\(id\)::text\) gin_trgm_ops\)/);
    expect(await list.searchIndexed()).toBe(true);
  });

  it('answers a name substring and an id piece through the trigram indexes', async () => {
    const [target] = await database.client.sql<{ id: string }[]>`
      SELECT id FROM devices WHERE name = 'greenhouse-01234'`;
    const explain = async (search: string) => {
      // The repository's own condition, as it builds it (EXPLAIN of the same text).
      const pattern = `%${search}%`;
      const plan = await database.client.sql<{ 'QUERY PLAN': string }[]>`
        EXPLAIN SELECT id FROM devices WHERE name ILIKE ${pattern} OR id::text ILIKE ${pattern}`;
      return plan.map((row) => row['QUERY PLAN']).join('\n');
    };
    expect(await explain('-01234')).toMatch(/devices_name_trgm_idx/);
    expect(await explain(target!.id.slice(19, 28))).toMatch(/devices_id_trgm_idx/);

    const page = await list.list({
      labels: [],
      search: '-01234',
      statuses: [],
      sort: 'name',
      descending: false,
      limit: 10,
    });
    expect(page.rows.map((row) => row.name)).toEqual(['greenhouse-01234']);
    const byId = await list.list({
      labels: [],
      search: target!.id.slice(19, 28).toUpperCase(),
      statuses: [],
      sort: 'created',
      descending: false,
      limit: 10,
    });
    expect(byId.rows.map((row) => row.id)).toEqual([target!.id]);
  });
});
