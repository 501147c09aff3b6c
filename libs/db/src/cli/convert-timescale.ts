import { createDatabaseClient, redactDatabaseUrl } from '../client.js';
import { runMigrations } from '../migrate.js';
import { convertToTimescale } from '../timescale-maintenance.js';

/**
 * `npm run db:convert-timescale` (or `node dist/libs/db/src/cli/convert-timescale.js`): for a database first
 * migrated on plain PostgreSQL, once TimescaleDB is installed on the server. Applies pending migrations, then
 * makes telemetry a hypertable with its rows and creates the compression, retention and aggregate objects.
 * Stop the hub first: the rows are moved into chunks under a lock. Needs DATABASE_URL (the embedded
 * PostgreSQL has no TimescaleDB).
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to the database to convert (the embedded PostgreSQL has no TimescaleDB)');
  const client = createDatabaseClient(url, {
    maxConnections: 1,
    onNotice: (message) => console.log(`notice: ${message}`),
  });
  try {
    await runMigrations(client);
    const result = await convertToTimescale(client);
    const seconds = (result.durationMs / 1000).toFixed(1);
    console.log(
      result.before === 'hypertable'
        ? `${redactDatabaseUrl(url)}: telemetry already is a hypertable; TimescaleDB objects checked (${seconds} s)`
        : `${redactDatabaseUrl(url)}: telemetry converted to a hypertable with its ${result.rows} rows in ${seconds} s; start the hub: it fills the aggregates in the background`,
    );
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
