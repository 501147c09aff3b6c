import { randomUUID } from 'node:crypto';
import { GeneratorPool } from '../load/generator-pool.js';
import type { LoadDevice, LoadTransport } from '../load/load-protocol.js';
import { launchAedes } from './aedes-launcher.js';
import type { BenchDatabase } from './bench-postgres.js';
import { type BenchContext, sleep } from './benchmark.js';
import type { HistogramSnapshot } from './histogram.js';
import { type IngestMetricsDelta, ingestMetricsDelta, type LaunchedHub, launchHub } from './hub-launcher.js';
import { CpuMeter, readTreeMemory } from './proc-stats.js';
import { WaitSampler, type WaitShares } from './wait-sampler.js';

/** One telemetry message of the load: three metrics, so one message is three rows. */
export const TELEMETRY_METRICS = ['temp', 'hum', 'pressure'];
export const TELEMETRY_PAYLOAD = '{"temp":21.5,"hum":40.2,"pressure":1013.2}';

/** After a window, how long in-flight publishes may take to be answered. */
const DRAIN_TIMEOUT_MS = 15_000;
/** Connection attempts in flight per generator process while devices connect. */
const CONNECT_CONCURRENCY = 50;
const CONNECT_TIMEOUT_MS = 10_000;
/** Publishing devices sit idle while another server is measured: keep-alive keeps their sessions. */
const KEEPALIVE_SECONDS = 30;

export interface WindowOptions {
  warmupMs: number;
  measureMs: number;
  /** Messages per second over all devices; undefined: as fast as acknowledgements allow. */
  ratePerSec?: number;
}

/** What one measured window of one subject gave. */
export interface WindowResult {
  /** Acknowledged messages per second (undefined for the database ceiling: it sends no messages). */
  ackedPerSec: number | undefined;
  /** Rows committed per second, counted in the database at the start and the end of the window (not aedes). */
  rowsPerSec: number | undefined;
  /** Publish → acknowledgement (ceiling: one statement). */
  latency: HistogramSnapshot;
  /** The hub, aedes, or the ceiling script. */
  serverCpuCores: number;
  databaseCpuCores: number | undefined;
  generatorCpuCores: number | undefined;
  /**
   * CPU used by everything else on the machine during the window (other people's work on a shared machine,
   * the bench parent): all busy CPU minus the server, database and generator. High values make figures noisy.
   */
  otherCpuCores: number;
  ingest: IngestMetricsDelta | undefined;
  errors: number;
  lateSends: number;
  disconnects: number;
  durationMs: number;
  /** The database writers' lock waits during the window (hub and ceiling; pg_stat_activity sampled). */
  waits?: WaitShares;
}

export interface SubjectFinal {
  /** The server's VmHWM; a hub with workers: its processes' peaks summed. */
  peakRssBytes: number;
  /** Every acknowledged message must be in the database: rows ≥ acknowledged × metrics (hub only). */
  durability: { acknowledgedMessages: number; rowsInDatabase: number; holds: boolean } | undefined;
  /** Publishes never answered by the end. */
  unanswered: number;
  /** Warnings the hub logged, or its exit code when not 0. */
  problems: string[];
}

/** Something the bench measures in windows, interleaved with the others so machine noise falls on all alike. */
export interface Subject {
  readonly label: string;
  readonly generatorProcesses: number;
  measureWindow(options: WindowOptions): Promise<WindowResult>;
  close(): Promise<SubjectFinal>;
}

/** A server under load: later benchmarks (commands, the admin live path) reach the hub and its devices through it. */
export interface LoadSubject extends Subject {
  /** undefined for aedes. */
  readonly hub: LaunchedHub | undefined;
  /** The devices the generator drives (provisioned through the hub's API for the hub). */
  readonly devices: LoadDevice[];
  /** The hub's own database (undefined for aedes), to read what the hub recorded (presence, its processes). */
  readonly database: BenchDatabase | undefined;
}

export interface LoadSubjectOptions {
  label: string;
  server: 'hub' | 'aedes';
  transport: LoadTransport;
  devices: number;
  window: number;
  processes: number;
  hubEnv: Record<string, string>;
  /** Node.js options for this hub only, on top of the run's (--hub-node-options). */
  hubNodeOptions?: string[];
  /** Another build's hub main.js (--compare-hub); default: this build's. */
  hubMain?: string;
}

/**
 * A server (the hub on a fresh database with devices provisioned through its API, or aedes) with its load
 * generator connected. The same code drives both, so their figures differ only by the server.
 */
export async function openLoadSubject(context: BenchContext, options: LoadSubjectOptions): Promise<LoadSubject> {
  const database = options.server === 'hub' ? await context.postgres.freshDatabase(options.label) : undefined;
  let hub: LaunchedHub | undefined;
  let aedes: Awaited<ReturnType<typeof launchAedes>> | undefined;
  let pool: GeneratorPool | undefined;
  let devices: LoadDevice[];
  try {
    hub = database
      ? await launchHub({
          databaseUrl: database.url,
          env: options.hubEnv,
          cpuProfileDir: context.cpuProfileDir,
          cpuProfileName: options.label,
          nodeOptions: [...context.hubNodeOptions, ...(options.hubNodeOptions ?? [])],
          main: options.hubMain,
        })
      : undefined;
    aedes = hub ? undefined : await launchAedes();
    devices = hub
      ? await hub.provision(options.devices, `bench-${options.server}-${options.transport}`)
      : Array.from({ length: options.devices }, () => ({ id: randomUUID(), token: 'aedes-accepts-any' }));
    pool = await GeneratorPool.start({
      processes: options.processes,
      devices,
      job: {
        transport: options.transport,
        host: '127.0.0.1',
        port: hub ? (options.transport === 'mqtt' ? hub.mqttPort : hub.httpPort) : aedes!.port,
        mode: 'publish',
        payload: TELEMETRY_PAYLOAD,
        window: options.window,
        keepAliveSeconds: KEEPALIVE_SECONDS,
        connectConcurrency: CONNECT_CONCURRENCY,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      },
    });
    const { connected, failed, failures } = pool.connectOutcome;
    if (failed > 0)
      throw new Error(`${failed} of ${options.devices} devices could not connect: ${JSON.stringify(failures)}`);
    context.log(`${options.label}: ${connected} devices connected`);
  } catch (error) {
    await pool?.close();
    await hub?.stop();
    await aedes?.stop();
    await database?.drop();
    throw error;
  }
  const serverPid = hub?.pid ?? aedes!.pid;
  const generator = pool;
  // The telemetry writers connect as application_name 'telehub-ingest' (apps/hub open-database.ts).
  const waitSampler = database ? new WaitSampler(database.url, 'telehub-ingest') : undefined;

  return {
    label: options.label,
    hub,
    devices,
    database,
    generatorProcesses: generator.processes,
    measureWindow: async ({ warmupMs, measureMs, ratePerSec }) => {
      generator.start(ratePerSec);
      await sleep(warmupMs);
      // The tree: a hub with TELEHUB_WORKERS is its primary and the worker processes it forked.
      const serverCpu = CpuMeter.forTree(serverPid);
      const databaseCpu = CpuMeter.forTree(context.postgres.pid);
      const machineCpu = CpuMeter.forMachine();
      const metricsBefore = await hub?.scrapeMetrics();
      const countBefore = await database?.countTelemetry();
      serverCpu.start();
      databaseCpu.start();
      machineCpu.start();
      waitSampler?.start();
      generator.measure();
      await sleep(measureMs);
      const waits = await waitSampler?.stop();
      const [window, countAfter] = await Promise.all([generator.stop(), database?.countTelemetry()]);
      const serverCpuCores = serverCpu.stop();
      const databaseCpuCores = databaseCpu.stop();
      const machineCpuCores = machineCpu.stop();
      const metricsAfter = await hub?.scrapeMetrics();
      // Answers to what is still in flight arrive before the next subject's window starts.
      await generator.drain(DRAIN_TIMEOUT_MS);
      return {
        ackedPerSec: window.ackedPerSec,
        rowsPerSec: countBefore && countAfter ? rowsPerSecond(countBefore, countAfter) : undefined,
        latency: window.latency.snapshot(),
        serverCpuCores,
        databaseCpuCores: hub ? databaseCpuCores : undefined,
        generatorCpuCores: window.cpuCores,
        // Without a hub the database is idle, but whatever it does is not "other" work either.
        otherCpuCores: machineCpuCores - serverCpuCores - databaseCpuCores - window.cpuCores,
        ingest: metricsBefore && metricsAfter ? ingestMetricsDelta(metricsBefore, metricsAfter) : undefined,
        errors: window.errors,
        lateSends: window.lateSends,
        disconnects: window.disconnects,
        durationMs: window.durationMs,
        waits,
      };
    },
    close: async () => {
      const drained = await generator.drain(DRAIN_TIMEOUT_MS);
      const finalCount = await database?.countTelemetry();
      const peakRssBytes = readTreeMemory(serverPid)?.peakRssBytes ?? Number.NaN;
      const problems: string[] = [];
      await generator.close();
      if (hub) {
        const code = await hub.stop();
        if (code !== 0) problems.push(`the hub exited with code ${code}: ${hub.recentLogs()}`);
        const distinct = [...new Set(hub.warnings)];
        if (distinct.length > 0) {
          problems.push(`the hub logged ${hub.warnings.length} warnings: ${distinct.slice(0, 3).join('; ')}`);
        }
      }
      await aedes?.stop();
      await waitSampler?.close();
      await database?.drop();
      return {
        peakRssBytes,
        durability: finalCount
          ? {
              acknowledgedMessages: drained.totalAcked,
              rowsInDatabase: finalCount.rows,
              holds: finalCount.rows >= drained.totalAcked * TELEMETRY_METRICS.length,
            }
          : undefined,
        unanswered: drained.outstanding,
        problems,
      };
    },
  };
}

export function rowsPerSecond(before: { rows: number; atMs: number }, after: { rows: number; atMs: number }): number {
  return (after.rows - before.rows) / ((after.atMs - before.atMs) / 1000);
}
