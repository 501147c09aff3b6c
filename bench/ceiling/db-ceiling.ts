import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createDatabaseClient } from '@telehub/db';
import type { BenchContext } from '../lib/benchmark.js';
import { sleep } from '../lib/benchmark.js';
import { ChildWorker } from '../lib/child-worker.js';
import { LatencyHistogram, type LatencySummary } from '../lib/histogram.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { BENCH_DIST } from '../lib/repo-paths.js';
import { rowsPerSecond, type Subject, TELEMETRY_METRICS } from '../lib/subjects.js';
import { WaitSampler } from '../lib/wait-sampler.js';
import type { CeilingCommand, CeilingEvent, CeilingMethod, RoundTripJob } from './db-ceiling.worker.js';

const REPLY_TIMEOUT_MS = 60_000;
/** The ceiling script's connections (db-ceiling.worker.ts), by which the wait sampler finds them. */
export const CEILING_APPLICATION_NAME = 'telehub-bench-ceiling';
const ROUND_TRIP_TIMEOUT_MS = 300_000;

type CeilingWorker = ChildWorker<CeilingCommand, CeilingEvent>;

function forkCeilingWorker(label: string): CeilingWorker {
  return ChildWorker.fork(join(BENCH_DIST, 'ceiling', 'db-ceiling.worker.js'), label);
}

export interface CeilingSubjectOptions {
  label: string;
  method: CeilingMethod;
  /** Drop the telemetry table's only index (the read path's) first: what that index costs the writes. */
  withoutIndex?: boolean;
  /** Read at the start of every window: the bench sets it from the batch size the hub formed. */
  batchRows: () => number;
  /** Writers committing at once: the hub's TELEHUB_INGEST_MAX_INFLIGHT. */
  concurrency: number;
  devices: number;
}

/**
 * A database ceiling (bench/ceiling/db-ceiling.worker.ts): COPY or the hub's own write, batches of the given
 * size, written by a plain script on a fresh database of the same server.
 */
export async function openCeilingSubject(context: BenchContext, options: CeilingSubjectOptions): Promise<Subject> {
  const database = await context.postgres.freshDatabase(options.label);
  if (options.withoutIndex) {
    const admin = createDatabaseClient(database.url, { maxConnections: 1, applicationName: 'telehub-bench' });
    await admin.sql`DROP INDEX telemetry_device_metric_time_idx`.finally(() => admin.close());
  }
  const worker = forkCeilingWorker(options.label);
  const waitSampler = new WaitSampler(database.url, CEILING_APPLICATION_NAME);
  worker.send({
    type: 'open',
    job: {
      method: options.method,
      url: database.url,
      deviceIds: Array.from({ length: options.devices }, () => randomUUID()),
      metrics: TELEMETRY_METRICS,
      concurrency: options.concurrency,
    },
  });
  await worker.next('ready', REPLY_TIMEOUT_MS);

  return {
    label: options.label,
    generatorProcesses: 0,
    measureWindow: async ({ warmupMs, measureMs }) => {
      worker.send({ type: 'start', batchRows: options.batchRows() });
      await sleep(warmupMs);
      const databaseCpu = CpuMeter.forTree(context.postgres.pid);
      const machineCpu = CpuMeter.forMachine();
      const before = await database.countTelemetry();
      databaseCpu.start();
      machineCpu.start();
      waitSampler.start();
      worker.send({ type: 'measure' });
      await sleep(measureMs);
      const waits = await waitSampler.stop();
      const after = await database.countTelemetry();
      const databaseCpuCores = databaseCpu.stop();
      const machineCpuCores = machineCpu.stop();
      worker.send({ type: 'stop' });
      const report = await worker.next('report', REPLY_TIMEOUT_MS);
      return {
        ackedPerSec: undefined,
        rowsPerSec: rowsPerSecond(before, after),
        latency: report.latency,
        serverCpuCores: report.cpuCores,
        databaseCpuCores,
        generatorCpuCores: undefined,
        otherCpuCores: machineCpuCores - databaseCpuCores - report.cpuCores,
        ingest: undefined,
        errors: 0,
        lateSends: 0,
        disconnects: 0,
        durationMs: report.durationMs,
        waits,
      };
    },
    close: async () => {
      worker.send({ type: 'close' });
      await worker.next('closed', REPLY_TIMEOUT_MS).catch(() => undefined);
      await worker.kill();
      await waitSampler.close();
      await database.drop();
      return { peakRssBytes: Number.NaN, durability: undefined, unanswered: 0, problems: [] };
    },
  };
}

export interface RoundTripFigures {
  batchRows: number;
  noDelay: LatencySummary;
  nagle: LatencySummary;
}

/** Statement round trips with and without TCP_NODELAY on the database socket, alternating, one at a time. */
export async function runRoundTrips(
  context: BenchContext,
  options: Omit<RoundTripJob, 'url' | 'deviceIds' | 'metrics'> & { devices: number },
): Promise<RoundTripFigures[]> {
  const database = await context.postgres.freshDatabase('nagle');
  const worker = forkCeilingWorker('Nagle check');
  try {
    worker.send({
      type: 'roundTrip',
      job: {
        url: database.url,
        deviceIds: Array.from({ length: options.devices }, () => randomUUID()),
        metrics: TELEMETRY_METRICS,
        batchRows: options.batchRows,
        samples: options.samples,
        intervalMs: options.intervalMs,
      },
    });
    const { results } = await worker.next('roundTrip', ROUND_TRIP_TIMEOUT_MS);
    return results.map((result) => ({
      batchRows: result.batchRows,
      noDelay: LatencyHistogram.from(result.noDelay).summary(),
      nagle: LatencyHistogram.from(result.nagle).summary(),
    }));
  } finally {
    await worker.kill();
    await database.drop();
  }
}
