import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { HubConfig } from '../config/hub-config.js';
import { startHubEmbeddedPostgres } from '../database/open-database.js';
import { serveWorkerMetrics } from '../metrics/worker-metrics.js';

/** What a worker tells its primary once it serves (after createHub resolved). */
const READY_MESSAGE = 'telehub:worker-ready';
/** A worker that dies is started again after this, doubling up to the longest while it keeps dying at once. */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** A worker that served this long is healthy again: its next restart waits the shortest delay. */
const HEALTHY_AFTER_MS = 60_000;

/** In a worker: tells the primary that this hub process serves. Nothing outside TELEHUB_WORKERS. */
export function reportWorkerReady(): void {
  if (cluster.isWorker) process.send?.({ type: READY_MESSAGE });
}

/**
 * The primary of TELEHUB_WORKERS: starts the embedded PostgreSQL once (when there is no DATABASE_URL), then the
 * hub processes, which share the HTTP and MQTT ports through node:cluster (the primary accepts and hands each
 * connection to a worker in turn). Each worker is a whole hub with a node id of its own (`<TELEHUB_NODE_ID>-<n>`),
 * talking to the others only through PostgreSQL, exactly as hubs on separate machines do. The first worker starts
 * alone (it applies migrations and makes the first admin token), the others after it. A worker that dies is
 * started again; SIGTERM/SIGINT stop every worker gracefully, then the database. The primary also aggregates the
 * workers' metrics for /metrics (WorkerMetrics).
 */
export async function runHubWorkers(config: HubConfig, logger: Logger): Promise<void> {
  const embedded = config.database.url ? undefined : await startHubEmbeddedPostgres(config, logger);
  const databaseUrl = config.database.url ?? embedded!.url;
  const workers = new Map<number, Worker>();
  const restartDelays = new Map<number, number>();
  let stopping = false;
  // A scrape of /metrics reaches one worker, which asks here for every worker's figures.
  serveWorkerMetrics();

  const start = (index: number): Promise<Worker> => {
    const worker = cluster.fork({ DATABASE_URL: databaseUrl, TELEHUB_NODE_ID: `${config.nodeId}-${index}` });
    workers.set(index, worker);
    const startedAt = performance.now();
    worker.once('exit', (code, signal) => {
      if (workers.get(index) === worker) workers.delete(index);
      if (stopping) return;
      const delay =
        performance.now() - startedAt > HEALTHY_AFTER_MS
          ? RESTART_DELAY_MS
          : (restartDelays.get(index) ?? RESTART_DELAY_MS);
      restartDelays.set(index, Math.min(delay * 2, RESTART_DELAY_MAX_MS));
      logger.error({ worker: index, code, signal, restartInMs: delay }, 'a hub worker stopped; starting it again');
      setTimeout(() => {
        if (!stopping)
          start(index).catch((error: unknown) => logger.error({ err: error, worker: index }, 'restart failed'));
      }, delay).unref();
    });
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if ((message as { type?: unknown } | null)?.type !== READY_MESSAGE) return;
        worker.off('message', onMessage);
        resolve(worker);
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(new Error(`hub worker ${index} exited with code ${code} before it served`)));
    });
  };

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: workers.size }, 'shutting down the hub workers');
    const exits = [...workers.values()].map(
      (worker) => new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code))),
    );
    for (const worker of workers.values()) worker.process.kill('SIGTERM');
    // Each worker bounds its own stop (TELEHUB_SHUTDOWN_TIMEOUT_MS); this bounds a worker that fails to.
    const deadline = setTimeout(() => {
      for (const worker of workers.values()) worker.process.kill('SIGKILL');
    }, config.shutdownTimeoutMs + 5_000);
    const codes = await Promise.all(exits);
    clearTimeout(deadline);
    await embedded?.stop();
    const clean = codes.every((code) => code === 0);
    logger.info({ codes }, clean ? 'stopped' : 'stopped; a worker did not stop cleanly');
    logger.flush();
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  try {
    await start(1);
    await Promise.all(Array.from({ length: config.workers - 1 }, (_, offset) => start(offset + 2)));
  } catch (error) {
    stopping = true;
    for (const worker of workers.values()) worker.process.kill('SIGTERM');
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
