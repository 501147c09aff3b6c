import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabaseClient, runMigrations, serverVersion, startEmbeddedPostgres } from '@telehub/db';
import postgres from 'postgres';

const TEMPLATE_DATABASE = 'bench_template';

/** Server settings that decide what a durable write costs; printed with the results. */
const REPORTED_SETTINGS = [
  'shared_buffers',
  'synchronous_commit',
  'fsync',
  'wal_level',
  'max_wal_size',
  'checkpoint_timeout',
  'wal_compression',
] as const;

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  /** Telemetry rows now, and the server's clock when the count's snapshot was taken. */
  countTelemetry(): Promise<{ rows: number; atMs: number }>;
  /** Devices the hub has recorded as online (its presence records). */
  countOnlineDevices(): Promise<number>;
  /** The reasons of the `disconnected` device events the hub recorded, with counts. */
  disconnectReasons(): Promise<Record<string, number>>;
  /** Online devices by the hub process holding their session (presence's `connected_node`), with counts. */
  onlineByNode(): Promise<Record<string, number>>;
  /** The hub processes with a lease, and the message rate each last recorded (its last minute). */
  hubNodes(): Promise<Array<{ name: string; messagesPerSecond: number }>>;
  drop(): Promise<void>;
}

export interface BenchPostgres {
  readonly version: string;
  readonly settings: Record<string, string>;
  /** The postmaster: its process tree is the database's CPU. */
  readonly pid: number;
  /** A new, migrated, empty database cloned from the template: each phase of a bench writes into its own. */
  freshDatabase(label: string): Promise<BenchDatabase>;
  /** Checkpoints since the server started (pg_stat_checkpointer, PostgreSQL 17): by timeout, and requested (WAL full). */
  checkpoints(): Promise<{ timed: number; requested: number }>;
  stop(): Promise<void>;
}

/**
 * One embedded PostgreSQL for the whole bench run, in a temporary directory, shared by the hub and the
 * database-ceiling script so both write to the same kind of table on the same server. Migrated once into a
 * template; every phase clones its own database from it (CREATE DATABASE … TEMPLATE), so no phase inherits
 * another's table size.
 */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const root = await mkdtemp(join(tmpdir(), 'telehub-bench-'));
  // Run as root, the server runs as the `postgres` user, which must be able to enter this directory.
  await chmod(root, 0o755);
  const dataDir = join(root, 'pg');
  const server = await startEmbeddedPostgres({ dataDir, port: 0, database: TEMPLATE_DATABASE });
  const adminUrl = server.url.replace(new RegExp(`/${TEMPLATE_DATABASE}$`), '/postgres');
  const template = createDatabaseClient(server.url, { maxConnections: 1, applicationName: 'telehub-bench' });
  let version: string;
  const settings: Record<string, string> = {};
  try {
    await runMigrations(template);
    version = await serverVersion(template);
    for (const name of REPORTED_SETTINGS) {
      const [row] = await template.sql<{ value: string }[]>`SELECT current_setting(${name}) AS value`;
      settings[name] = row?.value ?? '?';
    }
  } finally {
    await template.close();
  }
  const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });

  return {
    version,
    settings,
    pid,
    freshDatabase: async (label) => {
      const name = `bench_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
      await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
      const url = adminUrl.replace(/\/postgres$/, `/${name}`);
      const counter = postgres(url, { max: 1, onnotice: () => undefined });
      return {
        name,
        url,
        countTelemetry: async () => {
          // statement_timestamp(): when this statement (and so its snapshot) began, on the server's clock.
          const [row] = await counter<{ rows: string; at_ms: number }[]>`
            SELECT count(*) AS rows, (extract(epoch FROM statement_timestamp()) * 1000)::float8 AS at_ms
            FROM telemetry`;
          return { rows: Number(row!.rows), atMs: row!.at_ms };
        },
        countOnlineDevices: async () => {
          const [row] = await counter<{ online: string }[]>`SELECT count(*) AS online FROM devices WHERE online`;
          return Number(row!.online);
        },
        disconnectReasons: async () => {
          const rows = await counter<{ reason: string; count: string }[]>`
            SELECT coalesce(detail->>'reason', '?') AS reason, count(*) AS count
            FROM device_events WHERE type = 'disconnected' GROUP BY 1`;
          return Object.fromEntries(rows.map((row) => [row.reason, Number(row.count)]));
        },
        onlineByNode: async () => {
          const rows = await counter<{ node: string; count: string }[]>`
            SELECT coalesce(connected_node, '?') AS node, count(*) AS count FROM devices WHERE online GROUP BY 1`;
          return Object.fromEntries(rows.map((row) => [row.node, Number(row.count)]));
        },
        hubNodes: async () => {
          const rows = await counter<{ name: string; rate: number }[]>`
            SELECT name, messages_per_second AS rate FROM hub_nodes ORDER BY name`;
          return rows.map((row) => ({ name: row.name, messagesPerSecond: Number(row.rate) }));
        },
        drop: async () => {
          await counter.end({ timeout: 5 });
          await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        },
      };
    },
    checkpoints: async () => {
      const [row] = await admin<{ timed: string; requested: string }[]>`
        SELECT num_timed AS timed, num_requested AS requested FROM pg_stat_checkpointer`;
      return { timed: Number(row!.timed), requested: Number(row!.requested) };
    },
    stop: async () => {
      await admin.end({ timeout: 5 });
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
