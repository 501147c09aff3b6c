/**
 * `npm run build && node dist/bench/idle-memory.js [--connections=5000] [--rounds=2] [--snapshots=<dir>]`:
 * what one idle MQTT connection costs the built hub, on the JS heap above all, the figure a busy machine
 * disturbs least (RSS moves with the allocator and with what other processes take). See bench/README.md,
 * "Issue 16 item 6".
 *
 * Per round: a fresh hub (`--expose-gc`, inspector on loopback) on the same database; a warm-up set of devices
 * connects first, so one-time costs (compiled code, caches, pool slabs) fall before the baseline; after a full
 * collection the baseline is read; then `connections` more idle MQTT 3.1.1 devices connect from a child process
 * and, once the hub has recorded them online and settled, memory is read again after a full collection.
 * Per connection = (after − baseline) ÷ connections held.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchDatabase, startBenchPostgres } from './lib/bench-postgres.js';
import { sleep } from './lib/benchmark.js';
import { killAllChildren } from './lib/child-worker.js';
import { formatBytes, formatInt } from './lib/format.js';
import { freePort, HeapProbe, type HeapSample } from './lib/heap-probe.js';
import { launchHub } from './lib/hub-launcher.js';
import { GeneratorPool } from './load/generator-pool.js';
import type { LoadDevice } from './load/load-protocol.js';

const DEFAULTS = { connections: 5_000, rounds: 2 };
/** Connected before the baseline: JIT, caches and pools grow with the first connections, not per connection. */
const WARM_UP_CONNECTIONS = 250;
/** Longer than the measurement, so no PINGREQ falls inside it (the generator pings after half of it). */
const KEEP_ALIVE_SECONDS = 120;
const CONNECT_CONCURRENCY = 100;
const CONNECT_TIMEOUT_MS = 30_000;
const SETTLE_MS = 3_000;
const ONLINE_TIMEOUT_MS = 60_000;
const HUB_ENV: Record<string, string> = { TELEHUB_LOG_LEVEL: 'info' };
/** Three readings after full collections; the median is reported. */
const SAMPLES = 3;

interface Options {
  connections: number;
  rounds: number;
  snapshotDir: string | undefined;
}

interface RoundResult {
  held: number;
  baseline: HeapSample;
  loaded: HeapSample;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  return {
    connections: Number(value('connections') ?? DEFAULTS.connections),
    rounds: Number(value('rounds') ?? DEFAULTS.rounds),
    snapshotDir: value('snapshots'),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const postgres = await startBenchPostgres();
  try {
    const database = await postgres.freshDatabase('idle_memory');
    const provisioner = await launchHub({ databaseUrl: database.url, env: HUB_ENV });
    const devices = await provisioner
      .provision(WARM_UP_CONNECTIONS + options.connections, 'idle')
      .finally(() => provisioner.stop());
    const results: RoundResult[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const result = await measureRound(database, devices, options, round);
      results.push(result);
      log(`round ${round}: ${describe(result)}`);
    }
    printSummary(options, results);
    await database.drop();
  } finally {
    await postgres.stop();
  }
}

async function measureRound(
  database: BenchDatabase,
  devices: LoadDevice[],
  options: Options,
  round: number,
): Promise<RoundResult> {
  const inspectPort = await freePort();
  const hub = await launchHub({
    databaseUrl: database.url,
    env: HUB_ENV,
    nodeOptions: ['--expose-gc', `--inspect=127.0.0.1:${inspectPort}`],
  });
  const probe = await HeapProbe.connect(inspectPort);
  const pools: GeneratorPool[] = [];
  try {
    const warmUp = devices.slice(0, WARM_UP_CONNECTIONS);
    const measured = devices.slice(WARM_UP_CONNECTIONS);
    pools.push(await connectIdle(hub.mqttPort, warmUp, '127.0.0.2'));
    await sleep(SETTLE_MS);
    const baseline = await medianSample(probe);
    await snapshot(probe, options, `round${round}-baseline`);
    const pool = await connectIdle(hub.mqttPort, measured, '127.0.0.3');
    pools.push(pool);
    log(`round ${round}: ${formatInt(pool.connectOutcome.connected)} connected, waiting for the hub to settle`);
    await waitOnline(database, WARM_UP_CONNECTIONS + pool.connectOutcome.connected);
    await sleep(SETTLE_MS);
    const loaded = await medianSample(probe);
    // Counted before a snapshot, which stops the hub for seconds.
    const { open } = await pool.drain(1_000);
    await snapshot(probe, options, `round${round}-loaded`);
    return { held: open, baseline, loaded };
  } finally {
    probe.close();
    for (const pool of pools) await pool.close();
    await hub.stop();
  }
}

function connectIdle(port: number, devices: LoadDevice[], localAddress: string): Promise<GeneratorPool> {
  return GeneratorPool.start({
    processes: 1,
    devices,
    localAddressesPerProcess: [[localAddress]],
    job: {
      transport: 'mqtt',
      host: '127.0.0.1',
      port,
      mode: 'idle',
      payload: '{}',
      window: 0,
      keepAliveSeconds: KEEP_ALIVE_SECONDS,
      connectConcurrency: CONNECT_CONCURRENCY,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      maxConsecutiveFailures: 100,
    },
  });
}

/** The hub records presence after the CONNACK, in batches: wait until every session is recorded online. */
async function waitOnline(database: BenchDatabase, expected: number): Promise<void> {
  const deadline = Date.now() + ONLINE_TIMEOUT_MS;
  while ((await database.countOnlineDevices()) < expected && Date.now() < deadline) await sleep(500);
}

async function medianSample(probe: HeapProbe): Promise<HeapSample> {
  const samples: HeapSample[] = [];
  for (let index = 0; index < SAMPLES; index++) {
    samples.push(await probe.sample());
    await sleep(500);
  }
  samples.sort((a, b) => a.heapUsed - b.heapUsed);
  return samples[Math.floor(samples.length / 2)]!;
}

async function snapshot(probe: HeapProbe, options: Options, name: string): Promise<void> {
  if (!options.snapshotDir) return;
  await mkdir(options.snapshotDir, { recursive: true });
  const path = join(options.snapshotDir, `${name}.heapsnapshot`);
  await writeFile(path, await probe.heapSnapshot());
  log(`heap snapshot: ${path}`);
}

function perConnection(result: RoundResult, key: keyof HeapSample): number {
  return (result.loaded[key] - result.baseline[key]) / result.held;
}

function describe(result: RoundResult): string {
  return (
    `${formatInt(result.held)} held; per connection: heap ${formatBytes(perConnection(result, 'heapUsed'))}, ` +
    `external ${formatBytes(perConnection(result, 'external'))}, RSS ${formatBytes(perConnection(result, 'rss'))}`
  );
}

function printSummary(options: Options, results: RoundResult[]): void {
  const median = (key: keyof HeapSample) => {
    const values = results.map((result) => perConnection(result, key)).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  const figures = {
    connections: options.connections,
    rounds: results.length,
    held: results.map((result) => result.held),
    heapUsedPerConnection: results.map((result) => Math.round(perConnection(result, 'heapUsed'))),
    externalPerConnection: results.map((result) => Math.round(perConnection(result, 'external'))),
    rssPerConnection: results.map((result) => Math.round(perConnection(result, 'rss'))),
  };
  console.log(
    `\nidle MQTT connections, per connection (median of ${results.length} rounds): ` +
      `heap ${formatBytes(median('heapUsed'))}, external ${formatBytes(median('external'))}, RSS ${formatBytes(median('rss'))}`,
  );
  console.log(JSON.stringify(figures));
}

function log(message: string): void {
  console.error(`[idle-memory] ${message}`);
}

main().catch((error: unknown) => {
  console.error(error);
  killAllChildren();
  process.exitCode = 1;
});
