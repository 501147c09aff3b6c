import { join } from 'node:path';
import { ChildWorker } from '../lib/child-worker.js';
import { type LatencyHistogram, mergeHistograms } from '../lib/histogram.js';
import { BENCH_DIST } from '../lib/repo-paths.js';
import type { ConnectOutcome, LoadCommand, LoadDevice, LoadEvent, LoadJob } from './load-protocol.js';

/** Time a worker may take to connect its devices (idle ramps of thousands of connections included). */
const CONNECT_PHASE_TIMEOUT_MS = 180_000;
const REPLY_TIMEOUT_MS = 15_000;

export interface GeneratorPoolOptions {
  /** Generator processes; devices are split between them in contiguous runs. */
  processes: number;
  devices: LoadDevice[];
  /** Source addresses per process: process i binds the addresses of entry i (none: the system's choice). */
  localAddressesPerProcess?: string[][];
  job: Omit<LoadJob, 'devices' | 'localAddresses'>;
  /** Idle ramps: called with the summed progress of all processes, about twice a second. */
  onProgress?: (progress: ConnectOutcome) => void;
}

export interface PoolWindow {
  /** Acknowledged publishes per second over the window. */
  ackedPerSec: number;
  acked: number;
  errors: number;
  durationMs: number;
  latency: LatencyHistogram;
  /** CPU of all generator processes together, in cores. */
  cpuCores: number;
  lateSends: number;
  disconnects: number;
}

export interface PoolDrain {
  outstanding: number;
  totalAcked: number;
  totalSent: number;
  pingResponses: number;
  /** Connections still open. */
  open: number;
}

type LoadWorker = ChildWorker<LoadCommand, LoadEvent>;

/** The load generator as a whole: several load.worker.ts processes driven in step. */
export class GeneratorPool {
  private constructor(
    private readonly workers: LoadWorker[],
    private readonly deviceCounts: number[],
    readonly connectOutcome: ConnectOutcome,
  ) {}

  static async start(options: GeneratorPoolOptions): Promise<GeneratorPool> {
    const processes = Math.max(1, Math.min(options.processes, options.devices.length));
    const perProcess = Math.ceil(options.devices.length / processes);
    const workers: LoadWorker[] = [];
    const counts: number[] = [];
    const progress = new Map<number, ConnectOutcome>();
    for (let index = 0; index < processes; index++) {
      const devices = options.devices.slice(index * perProcess, (index + 1) * perProcess);
      if (devices.length === 0) break;
      const worker: LoadWorker = ChildWorker.fork(
        join(BENCH_DIST, 'load', 'load.worker.js'),
        `load generator ${index}`,
      );
      if (options.onProgress) {
        worker.on('progress', (message) => {
          progress.set(index, message);
          options.onProgress!(sumOutcomes([...progress.values()]));
        });
      }
      worker.send({
        type: 'job',
        job: { ...options.job, devices, localAddresses: options.localAddressesPerProcess?.[index] ?? [] },
      });
      workers.push(worker);
      counts.push(devices.length);
    }
    try {
      const outcomes = await Promise.all(workers.map((worker) => worker.next('connected', CONNECT_PHASE_TIMEOUT_MS)));
      return new GeneratorPool(workers, counts, sumOutcomes(outcomes));
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.kill()));
      throw error;
    }
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.pid);
  }

  get processes(): number {
    return this.workers.length;
  }

  /** Start publishing; a total rate is shared between the processes in proportion to their devices. */
  start(ratePerSec?: number): void {
    const total = this.deviceCounts.reduce((sum, count) => sum + count, 0);
    this.workers.forEach((worker, index) => {
      const share = ratePerSec === undefined ? undefined : (ratePerSec * this.deviceCounts[index]!) / total;
      worker.send({ type: 'start', ratePerSec: share });
    });
  }

  measure(): void {
    for (const worker of this.workers) worker.send({ type: 'measure' });
  }

  /** Stops sending and returns the measured window, summed over the processes. */
  async stop(): Promise<PoolWindow> {
    for (const worker of this.workers) worker.send({ type: 'stop' });
    const reports = await Promise.all(this.workers.map((worker) => worker.next('report', REPLY_TIMEOUT_MS)));
    const durationMs = Math.max(...reports.map((report) => report.durationMs));
    const acked = reports.reduce((sum, report) => sum + report.acked, 0);
    return {
      ackedPerSec: acked / (durationMs / 1000),
      acked,
      errors: reports.reduce((sum, report) => sum + report.errors, 0),
      durationMs,
      latency: mergeHistograms(reports.map((report) => report.latency)),
      cpuCores: reports.reduce((sum, report) => sum + report.cpuCores, 0),
      lateSends: reports.reduce((sum, report) => sum + report.lateSends, 0),
      disconnects: reports.reduce((sum, report) => sum + report.disconnects, 0),
    };
  }

  /** Waits until every publish was answered (or the timeout), then reports totals over the pool's life. */
  async drain(timeoutMs: number): Promise<PoolDrain> {
    for (const worker of this.workers) worker.send({ type: 'drain', timeoutMs });
    const replies = await Promise.all(
      this.workers.map((worker) => worker.next('drained', timeoutMs + REPLY_TIMEOUT_MS)),
    );
    return {
      outstanding: replies.reduce((sum, reply) => sum + reply.outstanding, 0),
      totalAcked: replies.reduce((sum, reply) => sum + reply.totalAcked, 0),
      totalSent: replies.reduce((sum, reply) => sum + reply.totalSent, 0),
      pingResponses: replies.reduce((sum, reply) => sum + reply.pingResponses, 0),
      open: replies.reduce((sum, reply) => sum + reply.open, 0),
    };
  }

  /** Disconnects every device and ends the processes. */
  async close(): Promise<void> {
    for (const worker of this.workers) worker.send({ type: 'close' });
    await Promise.all(
      this.workers.map(async (worker) => {
        await Promise.race([worker.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        await worker.kill();
      }),
    );
  }
}

function sumOutcomes(outcomes: ConnectOutcome[]): ConnectOutcome {
  const failures: Record<string, number> = {};
  for (const outcome of outcomes) {
    for (const [reason, count] of Object.entries(outcome.failures)) failures[reason] = (failures[reason] ?? 0) + count;
  }
  return {
    connected: outcomes.reduce((sum, outcome) => sum + outcome.connected, 0),
    failed: outcomes.reduce((sum, outcome) => sum + outcome.failed, 0),
    failures,
    elapsedMs: Math.max(0, ...outcomes.map((outcome) => outcome.elapsedMs)),
  };
}
