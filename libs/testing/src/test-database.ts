import { randomBytes } from 'node:crypto';
import { createDatabaseClient, type DatabaseClient } from '@telehub/db';
import postgres from 'postgres';
import { inject } from 'vitest';
import { TEMPLATE_DATABASE } from './template-database.js';

export { TEMPLATE_DATABASE };

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly client: DatabaseClient;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file, cloned from the template the global setup migrated. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const client = createDatabaseClient(url, { maxConnections: 4 });
  return {
    name,
    url,
    client,
    drop: async () => {
      await client.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => undefined });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
