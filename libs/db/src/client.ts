import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import { noDelaySocketFactory } from './no-delay-socket.js';
import * as schema from './schema/index.js';

export type Database = PostgresJsDatabase<typeof schema>;

export interface DatabaseClient {
  /** The raw postgres.js client, for LISTEN/NOTIFY and hand-written hot-path statements. */
  readonly sql: Sql;
  readonly db: Database;
  close(timeoutSeconds?: number): Promise<void>;
}

export interface DatabaseClientOptions {
  maxConnections?: number;
  applicationName?: string;
  onNotice?: (message: string) => void;
  /** Give up opening a connection after this long (postgres.js default: 30 s). */
  connectTimeoutMs?: number;
  /** The server cancels a statement that runs longer (PostgreSQL `statement_timeout`; default: none). */
  statementTimeoutMs?: number;
  /** false: commits do not wait for their WAL to reach the disk (`synchronous_commit = off`). Default: the server's. */
  synchronousCommit?: boolean;
  /** TCP_NODELAY on the connections (default true; see noDelaySocketFactory). false: postgres.js's own sockets. */
  noDelay?: boolean;
}

export function createDatabaseClient(url: string, options: DatabaseClientOptions = {}): DatabaseClient {
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    // Notices (e.g. from migrations) are routed to the caller's logger instead of stdout.
    onnotice: (notice) => options.onNotice?.(String(notice.message)),
    connection: {
      application_name: options.applicationName ?? 'telehub',
      ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
      ...(options.synchronousCommit === false ? { synchronous_commit: 'off' } : {}),
    },
    ...(options.connectTimeoutMs === undefined ? {} : { connect_timeout: options.connectTimeoutMs / 1000 }),
    // int8 (count(*), sums) comes back as a JS number: our counts never approach 2^53.
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
    transform: { undefined: null },
    // Spread: postgres.js documents `socket` but its type definitions lack it.
    ...(options.noDelay === false ? {} : { socket: noDelaySocketFactory() }),
  });
  const db = drizzle({ client: sql, schema });
  return {
    sql,
    db,
    close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }),
  };
}

/** The URL with its password replaced, for logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}
