import { join } from 'node:path';
import {
  applyRetentionPolicy,
  createDatabaseClient,
  type DatabaseClient,
  type DatabaseMode,
  detectDatabaseMode,
  type EmbeddedPostgres,
  ReadinessProbe,
  redactDatabaseUrl,
  runMigrations,
  serverVersion,
  startEmbeddedPostgres,
} from '@telehub/db';
import type { Logger } from 'pino';
import type { HubConfig } from '../config/hub-config.js';

export interface HubDatabase {
  readonly client: DatabaseClient;
  readonly mode: DatabaseMode;
  /** /readyz's own connection, apart from the pool. */
  readonly readiness: ReadinessProbe;
  /** Closes the pool and the readiness connection, then stops the embedded server if the hub started one. */
  close(): Promise<void>;
}

/**
 * DATABASE_URL set: use it. Unset: start the embedded PostgreSQL in the data directory. Then apply
 * migrations, find out whether TimescaleDB is active, and apply the retention setting.
 */
export async function openDatabase(config: HubConfig, logger: Logger): Promise<HubDatabase> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const pgLogger = logger.child({ component: 'embedded-postgres' });
    embedded = await startEmbeddedPostgres({
      dataDir: join(config.dataDir, 'pg'),
      port: config.database.embeddedPort,
      database: 'telehub',
      log: (message) => pgLogger.debug(message),
    });
    url = embedded.url;
  }
  const client = createDatabaseClient(url, {
    maxConnections: config.database.poolSize,
    onNotice: (message) => logger.debug({ component: 'postgres' }, message),
  });
  try {
    const version = await serverVersion(client);
    logger.info(
      { database: redactDatabaseUrl(url), embedded: Boolean(embedded), postgres: version },
      embedded ? 'using the embedded PostgreSQL' : 'using the PostgreSQL at DATABASE_URL',
    );
    const migrations = await runMigrations(client);
    logger.info(migrations, migrations.applied > 0 ? 'migrations applied' : 'database schema is up to date');
    const mode = await detectDatabaseMode(client);
    await applyRetentionPolicy(client, mode, config.retentionDays);
    logger.info(
      { mode, retentionDays: config.retentionDays },
      mode === 'timescaledb'
        ? 'TimescaleDB mode: telemetry is a compressed hypertable with retention and continuous aggregates'
        : 'plain PostgreSQL mode: telemetry is a regular table (no TimescaleDB extension)',
    );
    const readiness = new ReadinessProbe(url, { timeoutMs: config.database.readyTimeoutMs });
    return {
      client,
      mode,
      readiness,
      close: async () => {
        await readiness.close();
        await client.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await client.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
