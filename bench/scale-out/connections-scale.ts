import type { BenchDatabase } from '../lib/bench-postgres.js';
import { type BenchContext, sleep } from '../lib/benchmark.js';
import { formatBytes, formatCpu, formatInt, formatRatio } from '../lib/format.js';
import { launchHub } from '../lib/hub-launcher.js';
import { CpuMeter, readTreeMemory } from '../lib/proc-stats.js';
import { spread } from '../lib/rounds.js';
import type { Table } from '../lib/table.js';
import { GeneratorPool } from '../load/generator-pool.js';
import type { LoadDevice } from '../load/load-protocol.js';
import type { ScalePart } from './scale-part.js';

/**
 * Idle MQTT devices against 1 worker and 2, alternating (1, 2, 1, 2, …), each hub started fresh on the same
 * database. Smaller than the connections bench: the point is the ratio, not the machine's limit. Each generator
 * process holds `perProcess` sockets from its own source address (127.0.0.2 and up).
 */
const SETTINGS = {
  full: {
    target: 10_000,
    perProcess: 5_000,
    connectConcurrency: 200,
    keepAliveSeconds: 10,
    holdMs: 10_000,
    settleMs: 2_000,
    rounds: 2,
  },
  quick: {
    target: 1_000,
    perProcess: 500,
    connectConcurrency: 50,
    keepAliveSeconds: 2,
    holdMs: 2_000,
    settleMs: 1_000,
    rounds: 1,
  },
};
const FIRST_SOURCE_ADDRESS = 2;
const CONNECT_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 1_000;
/** A generator process stops trying after this many failures in a row (the hub stopped accepting). */
const MAX_CONSECUTIVE_FAILURES = 200;
const HUB_ENV: Record<string, string> = { TELEHUB_LOG_LEVEL: 'info' };
const WORKER_COUNTS = [1, 2] as const;

type Settings = (typeof SETTINGS)['full'];

interface IdleResult {
  workers: number;
  connected: number;
  held: number;
  failed: number;
  connectsPerSec: number;
  /** The hub's processes summed, before the first connection and at the end of the hold. */
  rssBeforeBytes: number;
  rssHoldingBytes: number;
  bytesPerConnection: number;
  holdCpuCores: number;
  /** Online devices by hub process (presence). */
  onlineByNode: Record<string, number>;
}

export async function connectionsScale(context: BenchContext): Promise<ScalePart> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const database = await context.postgres.freshDatabase('scale_connections');
  const results: IdleResult[] = [];
  try {
    // Provisioned by a hub that is then stopped, so the measured hubs start without its heap (connections bench).
    const provisioner = await launchHub({ databaseUrl: database.url, env: HUB_ENV });
    const devices = await provisioner.provision(settings.target, 'idle').finally(() => provisioner.stop());
    for (let round = 0; round < settings.rounds; round++) {
      for (const workers of WORKER_COUNTS) {
        const result = await holdIdle(context, settings, database, devices, workers);
        results.push(result);
        context.log(
          `idle round ${round + 1}/${settings.rounds}, ${workers} worker(s): ${formatInt(result.held)} held, ` +
            `${formatInt(result.connectsPerSec)} connects/s, ${formatBytes(result.bytesPerConnection)}/connection`,
        );
      }
    }
  } finally {
    await database.drop();
  }
  const byWorkers = (workers: number) => results.filter((result) => result.workers === workers);
  const notes = results
    .filter((result) => result.failed > 0 || result.held < settings.target)
    .map(
      (result) =>
        `idle, ${result.workers} worker(s): ${formatInt(result.held)} of ${formatInt(settings.target)} held, ` +
        `${formatInt(result.failed)} attempts failed`,
    );
  for (const result of byWorkers(2)) {
    if (Object.values(result.onlineByNode).filter((count) => count > 0).length < 2)
      notes.push('idle, 2 workers: THE SESSIONS DID NOT SPREAD over both workers');
  }
  return {
    settings: { connections: { ...settings, hubEnv: HUB_ENV } },
    figures: { connections: results },
    tables: [idleTable(settings, byWorkers(1), byWorkers(2))],
    notes,
  };
}

async function holdIdle(
  context: BenchContext,
  settings: Settings,
  database: BenchDatabase,
  devices: LoadDevice[],
  workers: number,
): Promise<IdleResult> {
  const hub = await launchHub({
    databaseUrl: database.url,
    env: { ...HUB_ENV, TELEHUB_WORKERS: String(workers), TELEHUB_NODE_ID: `bench-idle-w${workers}` },
    nodeOptions: context.hubNodeOptions,
  });
  try {
    await sleep(settings.settleMs);
    const rssBefore = readTreeMemory(hub.pid)?.rssBytes ?? Number.NaN;
    const processes = Math.ceil(devices.length / settings.perProcess);
    const pool = await GeneratorPool.start({
      processes,
      devices,
      localAddressesPerProcess: Array.from({ length: processes }, (_, index) => [
        `127.0.0.${FIRST_SOURCE_ADDRESS + index}`,
      ]),
      job: {
        transport: 'mqtt',
        host: '127.0.0.1',
        port: hub.mqttPort,
        mode: 'idle',
        payload: '{}',
        window: 0,
        keepAliveSeconds: settings.keepAliveSeconds,
        connectConcurrency: settings.connectConcurrency,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        maxConsecutiveFailures: MAX_CONSECUTIVE_FAILURES,
      },
    });
    try {
      const outcome = pool.connectOutcome;
      const cpu = CpuMeter.forTree(hub.pid);
      cpu.start();
      await sleep(settings.holdMs);
      const holdCpuCores = cpu.stop();
      const rssHolding = readTreeMemory(hub.pid)?.rssBytes ?? Number.NaN;
      const onlineByNode = await database.onlineByNode();
      const drained = await pool.drain(DRAIN_TIMEOUT_MS);
      return {
        workers,
        connected: outcome.connected,
        held: drained.open,
        failed: outcome.failed,
        connectsPerSec: outcome.connected / (outcome.elapsedMs / 1000),
        rssBeforeBytes: rssBefore,
        rssHoldingBytes: rssHolding,
        bytesPerConnection: (rssHolding - rssBefore) / drained.open,
        holdCpuCores,
        onlineByNode,
      };
    } finally {
      await pool.close();
    }
  } finally {
    await hub.stop();
  }
}

function idleTable(settings: Settings, one: IdleResult[], two: IdleResult[]): Table {
  const median = (results: IdleResult[], pick: (result: IdleResult) => number) => spread(results.map(pick)).median;
  const columns: Array<[string, (result: IdleResult) => number, (value: number) => string]> = [
    ['connected', (result) => result.connected, formatInt],
    ['held', (result) => result.held, formatInt],
    ['connects/s', (result) => result.connectsPerSec, formatInt],
    ['RSS before', (result) => result.rssBeforeBytes, formatBytes],
    ['RSS holding', (result) => result.rssHoldingBytes, formatBytes],
    ['RSS/connection', (result) => result.bytesPerConnection, formatBytes],
    ['CPU holding', (result) => result.holdCpuCores, formatCpu],
  ];
  const row = (label: string, results: IdleResult[]) => [
    label,
    ...columns.map(([, pick, format]) => format(median(results, pick))),
    results
      .map((result) =>
        Object.entries(result.onlineByNode)
          .map(([node, count]) => `${node} ${formatInt(count)}`)
          .join(', '),
      )
      .join(' | '),
  ];
  return {
    title:
      `Scale-out, idle connections: ${formatInt(settings.target)} MQTT 3.1.1 devices, keep-alive ` +
      `${settings.keepAliveSeconds} s, held ${settings.holdMs / 1000} s, 1 worker vs 2, ${settings.rounds} round(s)`,
    columns: ['Hub', ...columns.map(([name]) => name), 'online by process (presence)'],
    rows: [
      row('telehub, TELEHUB_WORKERS=1', one),
      row('telehub, TELEHUB_WORKERS=2', two),
      ['ratio 2 workers ÷ 1', ...columns.map(([, pick]) => formatRatio(median(two, pick) / median(one, pick))), ''],
    ],
    notes: [
      'Median over the rounds. RSS: the hub primary and its workers summed; RSS/connection: (holding − before) ÷ held.',
      "RSS before includes each worker's own heap: a second worker costs its baseline once, not per connection.",
      'connects/s: CONNACKs over the ramp (token lookup and presence write per device, through the same database).',
    ],
  };
}
