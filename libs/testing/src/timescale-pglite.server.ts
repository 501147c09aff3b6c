import { findFreePort } from '@telehub/db';

export interface TimescalePglite {
  readonly url: string;
  stop(): Promise<void>;
}

export interface TimescalePgliteOptions {
  /** Keep the database in this directory (default: in memory), so a later start finds it again. */
  dataDir?: string;
  /** false: plain PostgreSQL, without the extension (as a server where TimescaleDB is not installed yet). */
  timescale?: boolean;
  /**
   * false: without pg_trgm (PostgreSQL's contrib), as a server without contrib: device search is not indexed.
   * Default true: the extension can be created, as on the embedded PostgreSQL and the TimescaleDB image.
   */
  pgTrgm?: boolean;
}

/**
 * TimescaleDB for tests: PGlite (WASM PostgreSQL 17) with the TimescaleDB 2.23 extension, served over the
 * Postgres wire protocol, so the `postgres` driver and the migrations run against it unchanged. PGlite is
 * a single session: connect with a pool of one connection. Tests only; never used at run time.
 */
export async function startTimescalePglite(options: TimescalePgliteOptions = {}): Promise<TimescalePglite> {
  const [{ PGlite }, { timescaledb }, { pg_trgm }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/timescaledb'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create({
    dataDir: options.dataDir,
    extensions: {
      ...(options.timescale === false ? {} : { timescaledb }),
      ...(options.pgTrgm === false ? {} : { pg_trgm }),
    },
  });
  const port = await findFreePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
