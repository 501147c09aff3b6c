import { join, resolve } from 'node:path';
import { createDatabaseClient, redactDatabaseUrl } from '../client.js';
import { startEmbeddedPostgres } from '../embedded-postgres.server.js';
import { runMigrations } from '../migrate.js';

/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database in
 * TELEHUB_DATA_DIR when DATABASE_URL is unset (the same choice the hub makes). The hub also migrates at start-up.
 */
async function main(): Promise<void> {
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(resolve(process.env.TELEHUB_DATA_DIR || './.telehub'), 'pg'),
        port: 0,
        database: 'telehub',
      });
  const url = process.env.DATABASE_URL || embedded!.url;
  const client = createDatabaseClient(url, {
    maxConnections: 1,
    onNotice: (message) => console.log(`notice: ${message}`),
  });
  try {
    const result = await runMigrations(client);
    console.log(`${redactDatabaseUrl(url)}: ${result.applied} of ${result.total} migrations applied now`);
  } finally {
    await client.close();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
