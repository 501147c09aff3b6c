import { join } from 'node:path';
import {
  createDatabaseClient,
  type DatabaseClient,
  type EmbeddedPostgres,
  runMigrations,
  runningEmbeddedPostgresUrl,
  startEmbeddedPostgres,
} from '@telehub/db';
import type { HubConfig } from '../config/hub-config.js';

export interface CliDatabase {
  readonly client: DatabaseClient;
  close(): Promise<void>;
}

/**
 * The hub's database as the hub finds it: DATABASE_URL, or the embedded PostgreSQL in the data directory,
 * the running one when the hub runs (starting a second on the same directory would stop the hub's), else one
 * started for the CLI and stopped after. Pending migrations are applied, as the hub does at start-up.
 */
export async function openCliDatabase(config: HubConfig): Promise<CliDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const dataDir = join(config.dataDir, 'pg');
    url = await runningEmbeddedPostgresUrl(dataDir, 'telehub');
    if (!url) {
      embedded = await startEmbeddedPostgres({ dataDir, port: config.database.embeddedPort, database: 'telehub' });
      url = embedded.url;
    }
  }
  const client = createDatabaseClient(url, { maxConnections: 1, applicationName: 'telehub-admin-cli' });
  try {
    await runMigrations(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
  return {
    client,
    close: async () => {
      await client.close();
      await embedded?.stop();
    },
  };
}
