import { join } from 'node:path';
import {
  applyRetentionPolicies,
  CONVERT_TIMESCALE_COMMAND,
  compressionAgeMs,
  createDatabaseClient,
  type DatabaseClient,
  type DatabaseMode,
  detectTimescale,
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
  /** The pool for everything but the telemetry batches: commands, presence, auth, admin reads, state. */
  readonly client: DatabaseClient;
  /**
   * The telemetry writers' own connections (one per batch in flight, plus the late-rows lane): a batch holds its
   * connection for its whole commit, and commands, presence or auth lookups must never queue behind one.
   */
  readonly ingest: DatabaseClient;
  /**
   * One connection of its own that sends the notices between hub processes (ClusterBusRepository): a notifying
   * commit waits for a database-wide lock, and must never hold a pool connection while it does.
   */
  readonly notifier: DatabaseClient;
  /**
   * One connection of its own for the per-device HTTP rate budget shared by the hub processes
   * (DeviceRateRepository): a device request must not queue behind telemetry batches on the pool. postgres.js
   * pipelines the requests' statements on it.
   */
  readonly rateLimiter: DatabaseClient;
  readonly mode: DatabaseMode;
  /** /readyz's own connection, apart from the pool. */
  readonly readiness: ReadinessProbe;
  /**
   * Rows at least this old (ms) may belong in a chunk the compression policy is compressing, where an insert waits
   * for the compression: the ingest writes them in statements of their own. Undefined: nothing is compressed.
   */
  readonly compressionAgeMs: number | undefined;
  /** Closes the pool and the readiness connection, then stops the embedded server if the hub started one. */
  close(): Promise<void>;
}

/** The embedded PostgreSQL in the data directory, for a hub without DATABASE_URL (started once per machine). */
export function startHubEmbeddedPostgres(config: HubConfig, logger: Logger): Promise<EmbeddedPostgres> {
  const pgLogger = logger.child({ component: 'embedded-postgres' });
  return startEmbeddedPostgres({
    dataDir: join(config.dataDir, 'pg'),
    port: config.database.embeddedPort,
    database: 'telehub',
    log: (message) => pgLogger.debug(message),
  });
}

/**
 * DATABASE_URL set: use it. Unset: start the embedded PostgreSQL in the data directory. Then apply
 * migrations, find out whether TimescaleDB is active, and apply the retention setting.
 */
export async function openDatabase(config: HubConfig, logger: Logger): Promise<HubDatabase> {
  const embedded = config.database.url ? undefined : await startHubEmbeddedPostgres(config, logger);
  const url = config.database.url ?? embedded!.url;
  const client = createDatabaseClient(url, {
    maxConnections: config.database.poolSize,
    connectTimeoutMs: config.database.connectTimeoutMs,
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
    const timescale = await detectTimescale(client);
    const mode = timescale === 'hypertable' ? 'timescaledb' : 'postgresql';
    await applyRetentionPolicies(client, mode, config.retention);
    const retention = mode === 'timescaledb' ? config.retention : { rawDays: config.retention.rawDays };
    if (timescale === 'hypertable') {
      logger.info(
        { mode, retention },
        'TimescaleDB mode: telemetry is a compressed hypertable with retention tiers and continuous aggregates',
      );
    } else if (timescale === 'convertible') {
      logger.warn(
        { mode, retention, command: CONVERT_TIMESCALE_COMMAND },
        `plain PostgreSQL mode although TimescaleDB is installed: telemetry was created before it and is a regular table; stop the hub and run ${CONVERT_TIMESCALE_COMMAND} to convert it`,
      );
    } else {
      logger.info(
        { mode, retention },
        'plain PostgreSQL mode: telemetry is a regular table (no TimescaleDB extension)',
      );
    }
    const notifier = createDatabaseClient(url, {
      maxConnections: 1,
      applicationName: 'telehub-notifier',
      connectTimeoutMs: config.database.connectTimeoutMs,
    });
    const ingest = createDatabaseClient(url, {
      maxConnections: ingestConnections(config),
      applicationName: 'telehub-ingest',
      connectTimeoutMs: config.database.connectTimeoutMs,
    });
    const rateLimiter = createDatabaseClient(url, {
      maxConnections: 1,
      applicationName: 'telehub-rate-limit',
      connectTimeoutMs: config.database.connectTimeoutMs,
      // A budget is not worth waiting for a disk flush (its table is unlogged as well).
      synchronousCommit: false,
    });
    const readiness = new ReadinessProbe(url, {
      timeoutMs: config.database.readyTimeoutMs,
      timescaleJobs: mode === 'timescaledb',
    });
    return {
      client,
      ingest,
      notifier,
      rateLimiter,
      mode,
      readiness,
      compressionAgeMs: mode === 'timescaledb' ? await compressionAgeMs(client) : undefined,
      close: async () => {
        await readiness.close();
        await notifier.close();
        await ingest.close();
        await rateLimiter.close();
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

/** One connection per batch the fleet's writer may have in flight, and one for the late-rows writer. */
export function ingestConnections(config: HubConfig): number {
  return config.ingest.maxInflight + 1;
}
