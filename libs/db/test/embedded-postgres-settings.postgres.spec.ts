import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The test server is the embedded PostgreSQL (libs/testing global setup: startEmbeddedPostgres), as `npm start` runs it.
describe('embedded PostgreSQL settings', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('spaces checkpoints out for ingest and keeps every durability setting on', async () => {
    const settings = await database.client.sql<{ name: string; setting: string }[]>`
      SELECT name, current_setting(name) AS setting FROM unnest(${[
        'max_wal_size',
        'checkpoint_timeout',
        'fsync',
        'synchronous_commit',
        'full_page_writes',
      ]}::text[]) AS name`;
    expect(Object.fromEntries(settings.map((row) => [row.name, row.setting]))).toEqual({
      max_wal_size: '4GB',
      checkpoint_timeout: '15min',
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
    });
  });
});
