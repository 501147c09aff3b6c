import 'reflect-metadata';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config/hub-config.js';
import { createHub, type Hub } from './create-hub.js';
import { createLogger } from './logging/create-logger.js';
import { answerMetricsRequests } from './metrics/worker-metrics.js';
import { reportWorkerReady, runHubWorkers } from './workers/hub-workers.js';

/** Bootstrap only: read the config, start the hub, stop it cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`telehub: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // A worker of TELEHUB_WORKERS says which one it is on every line (they share the primary's output).
  const logger = cluster.isWorker
    ? createLogger(config.log).child({ node: config.nodeId, pid: process.pid })
    : createLogger(config.log);
  const startedAt = performance.now();
  if (cluster.isPrimary && config.workers > 1) {
    try {
      await runHubWorkers(config, logger);
    } catch (error) {
      logger.fatal({ err: error }, 'telehub failed to start');
      logger.flush();
      process.exit(1);
    }
    logger.info({ ms: Math.round(performance.now() - startedAt), workers: config.workers }, 'telehub is ready');
    return;
  }
  let hub: Hub;
  if (cluster.isWorker) answerMetricsRequests();
  try {
    hub = await createHub(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'telehub failed to start');
    logger.flush();
    process.exit(1);
  }
  logger.info({ ms: Math.round(performance.now() - startedAt) }, 'telehub is ready');
  reportWorkerReady();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown timed out (TELEHUB_SHUTDOWN_TIMEOUT_MS); exiting');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    try {
      await hub.close();
      clearTimeout(deadline);
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      logger.flush();
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
