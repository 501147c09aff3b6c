/**
 * The database ceiling: telemetry rows written straight into the hub's table by a plain script with no hub in
 * between, in one of three ways (`method`): `COPY … FROM STDIN` in the binary or the text format with nothing
 * else (the fastest way PostgreSQL takes these rows: the true ceiling), or the hub's own statement
 * (TelemetryRepository.insertBatchWithLatest, with `latest` from the hub's newestPerMetric). Run as its own
 * process so its CPU is counted apart from the bench parent.
 *
 * Throughput: `concurrency` writers (the hub's TELEHUB_INGEST_MAX_INFLIGHT) each committing `batchRows`-row
 * batches back to back, driven through open → (start → measure → stop)… → close like the load generator.
 * Round trips: one statement at a time at a fixed interval, alternating between the hub's client (TCP_NODELAY)
 * and postgres.js's own sockets (Nagle's algorithm on), to show what Nagle costs a batch of a given size.
 */
import {
  copyIn,
  createDatabaseClient,
  type DatabaseClient,
  encodeTelemetryBinary,
  encodeTelemetryText,
  TELEMETRY_COPY_COLUMNS,
  type TelemetryBatch,
  TelemetryRepository,
} from '@telehub/db';
import { newestPerMetric } from '../../apps/hub/src/ingest/newest-per-metric.js';
import { workerChannel } from '../lib/child-worker.js';
import { type HistogramSnapshot, LatencyHistogram } from '../lib/histogram.js';

/**
 * - `copy-binary`, `copy-text`: `COPY telemetry … FROM STDIN` of the batch's rows, one transaction per batch, no
 *   device_latest (the fastest way into the table: the ceiling);
 * - `hub-statement`: the hub's INSERT statement (rows and device_latest in one statement);
 * - `hub-copy`: the hub's COPY write (TelemetryRepository.copyBatchWithLatest: COPY binary, then the upsert).
 */
export type CeilingMethod = 'copy-binary' | 'copy-text' | 'hub-statement' | 'hub-copy';

export interface CeilingThroughputJob {
  method: CeilingMethod;
  url: string;
  deviceIds: string[];
  /** Metric names of one message; a message is one row per metric, as the hub stores it. */
  metrics: string[];
  concurrency: number;
}

export interface RoundTripJob {
  url: string;
  deviceIds: string[];
  metrics: string[];
  batchRows: number[];
  /** Statements per batch size and variant. */
  samples: number;
  /** Pause between statements, so each starts on an idle connection as a lightly loaded hub's would. */
  intervalMs: number;
}

export type CeilingCommand =
  | { type: 'open'; job: CeilingThroughputJob }
  | { type: 'start'; batchRows: number }
  | { type: 'measure' }
  | { type: 'stop' }
  | { type: 'close' }
  | { type: 'roundTrip'; job: RoundTripJob };

export interface RoundTripResult {
  batchRows: number;
  noDelay: HistogramSnapshot;
  nagle: HistogramSnapshot;
}

export type CeilingEvent =
  | { type: 'ready' }
  | { type: 'closed' }
  | {
      type: 'report';
      rowsCommitted: number;
      statements: number;
      durationMs: number;
      latency: HistogramSnapshot;
      cpuCores: number;
    }
  | { type: 'roundTrip'; results: RoundTripResult[] }
  | { type: 'error'; message: string };

let job: CeilingThroughputJob | undefined;
let client: DatabaseClient | undefined;
let running = false;
let measuring = false;
let windowStart = 0;
let windowCpu = process.cpuUsage();
let rowsCommitted = 0;
let statements = 0;
const latency = new LatencyHistogram();
let writers: Promise<void>[] = [];

const send = workerChannel<CeilingCommand, CeilingEvent>(async (command) => {
  switch (command.type) {
    case 'open':
      job = command.job;
      client = createDatabaseClient(job.url, {
        maxConnections: job.concurrency,
        // CEILING_APPLICATION_NAME in db-ceiling.ts: the wait sampler finds these connections by it.
        applicationName: 'telehub-bench-ceiling',
      });
      send({ type: 'ready' });
      return;
    case 'start':
      running = true;
      writers = Array.from({ length: job!.concurrency }, () => writeLoop(job!, client!, command.batchRows));
      return;
    case 'measure':
      measuring = true;
      rowsCommitted = statements = 0;
      latency.reset();
      windowStart = performance.now();
      windowCpu = process.cpuUsage();
      return;
    case 'stop': {
      running = false;
      const durationMs = performance.now() - windowStart;
      const cpu = process.cpuUsage(windowCpu);
      const report = {
        rowsCommitted,
        statements,
        durationMs,
        latency: latency.snapshot(),
        cpuCores: (cpu.user + cpu.system) / 1000 / durationMs,
      };
      measuring = false;
      await Promise.all(writers);
      send({ type: 'report', ...report });
      return;
    }
    case 'close':
      await client?.close();
      send({ type: 'closed' });
      return;
    case 'roundTrip':
      send({ type: 'roundTrip', results: await roundTrips(command.job) });
      return;
  }
});

async function writeLoop(job: CeilingThroughputJob, database: DatabaseClient, batchRows: number): Promise<void> {
  const repository = new TelemetryRepository(database);
  let cursor = Math.floor(Math.random() * job.deviceIds.length);
  while (running) {
    const batch = buildBatch(job.deviceIds, job.metrics, batchRows, cursor);
    cursor += Math.ceil(batchRows / job.metrics.length);
    const started = performance.now();
    await write(job.method, database, repository, batch);
    // A statement that commits after 'stop' was not part of the window; the parent's row count sees it anyway.
    if (measuring) {
      latency.record(performance.now() - started);
      rowsCommitted += batch.times.length;
      statements += 1;
    }
  }
}

async function write(
  method: CeilingMethod,
  database: DatabaseClient,
  repository: TelemetryRepository,
  batch: TelemetryBatch,
): Promise<void> {
  switch (method) {
    case 'hub-statement':
      await repository.insertBatchWithLatest(batch, newestPerMetric(batch));
      return;
    case 'hub-copy':
      await repository.copyBatchWithLatest(batch, newestPerMetric(batch), 'binary');
      return;
    case 'copy-binary':
    case 'copy-text': {
      const binary = method === 'copy-binary';
      const data = binary ? encodeTelemetryBinary(batch) : encodeTelemetryText(batch);
      const statement = `COPY telemetry ${TELEMETRY_COPY_COLUMNS} FROM STDIN${binary ? ' (FORMAT binary)' : ''}`;
      // One transaction per batch, as the hub commits them (COPY alone would commit on its own just the same).
      await database.sql.begin((sql) => copyIn(sql, statement, data));
      return;
    }
  }
}

/** `rows` rows as the hub gathers them: whole messages (one row per metric, one time) from devices in turn. */
function buildBatch(deviceIds: string[], metrics: string[], rows: number, firstDevice: number): TelemetryBatch {
  const batch: TelemetryBatch = { times: [], deviceIds: [], metrics: [], values: [] };
  const now = Date.now();
  for (let message = 0; batch.times.length < rows; message++) {
    const deviceId = deviceIds[(firstDevice + message) % deviceIds.length]!;
    for (const metric of metrics) {
      if (batch.times.length === rows) break;
      batch.times.push(now);
      batch.deviceIds.push(deviceId);
      batch.metrics.push(metric);
      batch.values.push(Math.round(Math.random() * 1000) / 10);
    }
  }
  return batch;
}

async function roundTrips(job: RoundTripJob): Promise<RoundTripResult[]> {
  const variants = {
    // The hub's own client, as it connects (TCP_NODELAY since the COPY write path: libs/db noDelaySocketFactory).
    noDelay: createDatabaseClient(job.url, { maxConnections: 1, applicationName: 'telehub-bench-nodelay' }),
    // postgres.js's own sockets: Nagle on.
    nagle: createDatabaseClient(job.url, { maxConnections: 1, applicationName: 'telehub-bench-nagle', noDelay: false }),
  };
  const results: RoundTripResult[] = [];
  try {
    for (const rows of job.batchRows) {
      const histograms = { noDelay: new LatencyHistogram(), nagle: new LatencyHistogram() };
      // One untimed statement each first: connection set-up and statement preparation are not what is measured.
      for (const variant of ['noDelay', 'nagle'] as const) await timedInsert(variants[variant], job, rows, 0);
      for (let sample = 0; sample < job.samples; sample++) {
        // Alternate, so load from elsewhere on the machine falls on both variants alike.
        for (const variant of ['noDelay', 'nagle'] as const) {
          histograms[variant].record(await timedInsert(variants[variant], job, rows, sample));
          await new Promise((resolve) => setTimeout(resolve, job.intervalMs));
        }
      }
      results.push({ batchRows: rows, noDelay: histograms.noDelay.snapshot(), nagle: histograms.nagle.snapshot() });
    }
  } finally {
    await Promise.all(Object.values(variants).map((variant) => variant.close()));
  }
  return results;
}

async function timedInsert(database: DatabaseClient, job: RoundTripJob, rows: number, sample: number): Promise<number> {
  const batch = buildBatch(job.deviceIds, job.metrics, rows, sample * rows);
  const latest = newestPerMetric(batch);
  const started = performance.now();
  await new TelemetryRepository(database).insertBatchWithLatest(batch, latest);
  return performance.now() - started;
}
