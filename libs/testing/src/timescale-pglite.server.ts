import { findFreePort } from '@telehub/db';

export interface TimescalePglite {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * TimescaleDB for tests: PGlite (WASM PostgreSQL 17) with the TimescaleDB 2.23 extension, served over the
 * Postgres wire protocol, so the `postgres` driver and the migrations run against it unchanged. PGlite is
 * a single session: connect with a pool of one connection. Tests only; never used at run time.
 */
export async function startTimescalePglite(): Promise<TimescalePglite> {
  const [{ PGlite }, { timescaledb }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/timescaledb'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create({ extensions: { timescaledb } });
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
