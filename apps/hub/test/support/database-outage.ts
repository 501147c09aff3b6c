import type { TestDatabase } from '@telehub/testing';
import postgres from 'postgres';
import { inject } from 'vitest';

/**
 * Makes a test database unavailable, as a stopped server is to its clients: connections to it are cut and new
 * ones refused (`ALLOW_CONNECTIONS false`, which binds superusers too), until `end()` lets them in again.
 */
export async function startDatabaseOutage(database: TestDatabase): Promise<{ end(): Promise<void> }> {
  const admin = postgres(inject('postgresAdminUrl'), { max: 1, onnotice: () => undefined });
  await admin.unsafe(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS false`);
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database.name}`;
  return {
    end: async () => {
      try {
        await admin.unsafe(`ALTER DATABASE ${database.name} ALLOW_CONNECTIONS true`);
      } finally {
        await admin.end();
      }
    },
  };
}
