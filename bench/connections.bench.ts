import { randomUUID } from 'node:crypto';
import { launchAedes } from './lib/aedes-launcher.js';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings, sleep } from './lib/benchmark.js';
import { formatBytes, formatCpu, formatInt, formatRatio } from './lib/format.js';
import { launchHub } from './lib/hub-launcher.js';
import { findMosquitto, launchMosquitto } from './lib/mosquitto-launcher.js';
import { CpuMeter, countOpenFiles, openFilesLimit, readProcMemory } from './lib/proc-stats.js';
import type { Table } from './lib/table.js';
import { GeneratorPool } from './load/generator-pool.js';
import type { ConnectOutcome, LoadDevice } from './load/load-protocol.js';

/**
 * Idle MQTT devices, as many as the machine allows up to `target`. Each generator process holds at most
 * `perProcess` sockets (under the 20,000 open-files limit every process has here) and binds its own source
 * address, 127.0.0.2 and up, because one source address has only ~28,000 ephemeral ports towards one server port.
 */
const SETTINGS = {
  full: {
    target: 50_000,
    perProcess: 12_500,
    connectConcurrency: 200,
    keepAliveSeconds: 10,
    holdMs: 15_000,
    settleMs: 3_000,
    maxConsecutiveFailures: 200,
  },
  quick: {
    target: 2_000,
    perProcess: 1_000,
    connectConcurrency: 50,
    keepAliveSeconds: 2,
    holdMs: 3_000,
    settleMs: 1_000,
    maxConsecutiveFailures: 50,
  },
};
const FIRST_SOURCE_ADDRESS = 2; // 127.0.0.2
const CONNECT_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 1_000;
const API_CHECK_TIMEOUT_MS = 3_000;
/** A server within this many open files of its limit counts as having run out. */
const OPEN_FILES_RESERVE = 64;
/**
 * The hub's own session limit is left at its default, as shipped: 20,000 or the open-files limit minus a
 * reserve, whichever is lower, so at the limit it refuses devices itself and keeps its API answering.
 */
const HUB_ENV: Record<string, string> = {
  TELEHUB_LOG_LEVEL: 'info',
};
/** Targets from the issue (reported, not enforced). */
const TARGET_BYTES_PER_CONNECTION = 5 * 1024;

type Settings = (typeof SETTINGS)['full'];

type ServerName = 'hub' | 'aedes' | 'mosquitto';

interface ServerResult {
  server: ServerName;
  attempted: number;
  /** Connections that got their CONNACK during the ramp. */
  connected: number;
  /** Connections still open at the end of the hold: what the memory figure is divided by. */
  held: number;
  /** Devices the hub recorded as online in the database at the end of the hold. */
  serverSessions: number | undefined;
  /** Whether the hub's HTTP API (/healthz) still answered at the end of the hold. */
  apiAnswers: boolean | undefined;
  /**
   * Why the server ended connections (hub: its `disconnected` device events; aedes: its events; mosquitto: not
   * known), with counts.
   */
  closeReasons: Record<string, number>;
  failures: Record<string, number>;
  rampSeconds: number;
  connectsPerSec: number;
  idleRssBytes: number;
  loadedRssBytes: number;
  bytesPerConnection: number;
  /** CPU while holding the connections (keep-alive traffic). */
  holdCpuCores: number;
  /** At the end of the hold. */
  openFiles: number;
  /** The most seen during the ramp and the hold (sampled every 2 s). */
  peakOpenFiles: number;
  openFilesLimit: number;
  pingResponses: number;
  /** Set when the server process died during the run. */
  exited: string | undefined;
  stopReason: string;
}

export const connectionsBench: Benchmark = {
  name: 'connections',
  title: 'Idle MQTT connections',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const hub = await hubRun(context, settings);
  const aedes = await aedesRun(context, settings);
  // mosquitto (C, one thread) is the peer the issue names; left out where its binary is not installed.
  const mosquittoBinary = findMosquitto();
  const mosquitto = mosquittoBinary ? await mosquittoRun(context, settings, mosquittoBinary) : undefined;
  return {
    settings: { ...settings, hub: effectiveHubSettings(HUB_ENV), mosquitto: mosquitto?.version ?? 'not installed' },
    figures: { hub, aedes, ...(mosquitto ? { mosquitto } : {}) },
    tables: [connectionsTable(settings, hub, [aedes, ...(mosquitto ? [mosquitto] : [])])],
    targets: [
      {
        target: `hub RSS per idle connection < ${formatBytes(TARGET_BYTES_PER_CONNECTION)}`,
        measured: formatBytes(hub.bytesPerConnection),
        met: Number.isFinite(hub.bytesPerConnection) ? hub.bytesPerConnection < TARGET_BYTES_PER_CONNECTION : undefined,
      },
    ],
    notes: [
      `telehub: ${hub.stopReason}`,
      `aedes: ${aedes.stopReason}`,
      mosquitto
        ? `mosquitto ${mosquitto.version}: ${mosquitto.stopReason}`
        : 'mosquitto: not installed (Debian: apt-get install mosquitto), left out',
      ...(hub.exited ? [hub.exited] : []),
      ...(hub.apiAnswers === false
        ? [
            'telehub: its HTTP API did not answer at the limit: admin requests and health checks need a file descriptor too',
          ]
        : []),
    ],
  };
}

async function hubRun(context: BenchContext, settings: Settings): Promise<ServerResult> {
  const database = await context.postgres.freshDatabase('connections');
  try {
    // Provisioned through a hub that is then stopped, so the measured hub starts without the heap that
    // creating tens of thousands of devices leaves behind.
    const provisioner = await launchHub({ databaseUrl: database.url, env: HUB_ENV });
    const started = performance.now();
    const devices = await provisioner.provision(settings.target, 'idle').finally(() => provisioner.stop());
    context.log(`${devices.length} devices provisioned in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const hub = await launchHub({
      databaseUrl: database.url,
      env: HUB_ENV,
      cpuProfileDir: context.cpuProfileDir,
      cpuProfileName: 'telehub idle connections',
      nodeOptions: context.hubNodeOptions,
    });
    try {
      const result = await holdConnections(context, settings, 'hub', hub.pid, hub.mqttPort, devices, async () => ({
        sessions: await database.countOnlineDevices(),
        closeReasons: await database.disconnectReasons(),
        apiAnswers: await fetch(`${hub.baseUrl}/healthz`, { signal: AbortSignal.timeout(API_CHECK_TIMEOUT_MS) }).then(
          (response) => response.ok,
          () => false,
        ),
      }));
      return { ...result, exited: hub.hasExited ? `the hub exited: ${hub.recentLogs()}` : undefined };
    } finally {
      await hub.stop();
    }
  } finally {
    await database.drop();
  }
}

async function aedesRun(context: BenchContext, settings: Settings): Promise<ServerResult> {
  const aedes = await launchAedes();
  try {
    const devices = Array.from({ length: settings.target }, () => ({ id: randomUUID(), token: 'aedes-accepts-any' }));
    const result = await holdConnections(context, settings, 'aedes', aedes.pid, aedes.port, devices, async () => ({
      sessions: undefined,
      apiAnswers: undefined,
      closeReasons: await aedes.closeReasons(),
    }));
    return { ...result, exited: undefined };
  } finally {
    await aedes.stop();
  }
}

async function mosquittoRun(
  context: BenchContext,
  settings: Settings,
  binary: string,
): Promise<ServerResult & { version: string }> {
  const mosquitto = await launchMosquitto(binary);
  try {
    const devices = Array.from({ length: settings.target }, () => ({
      id: randomUUID(),
      token: 'mosquitto-accepts-any',
    }));
    const result = await holdConnections(
      context,
      settings,
      'mosquitto',
      mosquitto.pid,
      mosquitto.port,
      devices,
      async () => ({
        sessions: undefined,
        apiAnswers: undefined,
        closeReasons: {},
      }),
    );
    return { ...result, exited: undefined, version: mosquitto.version };
  } finally {
    await mosquitto.stop();
  }
}

async function holdConnections(
  context: BenchContext,
  settings: Settings,
  server: ServerName,
  pid: number,
  port: number,
  devices: LoadDevice[],
  inspectServer: () => Promise<{
    sessions: number | undefined;
    apiAnswers: boolean | undefined;
    closeReasons: Record<string, number>;
  }>,
): Promise<Omit<ServerResult, 'exited'>> {
  await sleep(settings.settleMs);
  const idleRss = readProcMemory(pid)?.rssBytes ?? Number.NaN;
  const processes = Math.ceil(devices.length / settings.perProcess);
  let lastLog = 0;
  let peakOpenFiles = 0;
  const pool = await GeneratorPool.start({
    processes,
    devices,
    localAddressesPerProcess: Array.from({ length: processes }, (_, index) => [
      `127.0.0.${FIRST_SOURCE_ADDRESS + index}`,
    ]),
    job: {
      transport: 'mqtt',
      host: '127.0.0.1',
      port,
      mode: 'idle',
      payload: '{}',
      window: 0,
      keepAliveSeconds: settings.keepAliveSeconds,
      connectConcurrency: settings.connectConcurrency,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      maxConsecutiveFailures: settings.maxConsecutiveFailures,
    },
    onProgress: (progress: ConnectOutcome) => {
      if (performance.now() - lastLog < 2_000) return;
      lastLog = performance.now();
      peakOpenFiles = Math.max(peakOpenFiles, countOpenFiles(pid) || 0);
      context.log(`${server}: ${formatInt(progress.connected)} connected, ${formatInt(progress.failed)} failed`);
    },
  });
  try {
    const outcome = pool.connectOutcome;
    context.log(
      `${server}: ramp over, ${formatInt(outcome.connected)} connected; holding ${settings.holdMs / 1000} s with keep-alive`,
    );
    const cpu = CpuMeter.forProcess(pid);
    cpu.start();
    await sleep(settings.holdMs);
    const holdCpuCores = cpu.stop();
    const loadedRss = readProcMemory(pid)?.rssBytes ?? Number.NaN;
    const openFiles = countOpenFiles(pid);
    peakOpenFiles = Math.max(peakOpenFiles, openFiles || 0);
    const limit = openFilesLimit(pid);
    const inspection = await inspectServer();
    const drained = await pool.drain(DRAIN_TIMEOUT_MS);
    const rampSeconds = outcome.elapsedMs / 1000;
    return {
      server,
      attempted: outcome.connected + outcome.failed,
      connected: outcome.connected,
      held: drained.open,
      serverSessions: inspection.sessions,
      apiAnswers: inspection.apiAnswers,
      closeReasons: inspection.closeReasons,
      failures: outcome.failures,
      rampSeconds,
      connectsPerSec: outcome.connected / rampSeconds,
      idleRssBytes: idleRss,
      loadedRssBytes: loadedRss,
      bytesPerConnection: (loadedRss - idleRss) / drained.open,
      holdCpuCores,
      openFiles,
      openFilesLimit: limit,
      pingResponses: drained.pingResponses,
      peakOpenFiles,
      stopReason: stopReason(settings, outcome, drained.open, peakOpenFiles, limit, inspection.closeReasons),
    };
  } finally {
    await pool.close();
  }
}

function stopReason(
  settings: Settings,
  outcome: ConnectOutcome,
  held: number,
  peakOpenFiles: number,
  limit: number,
  closeReasons: Record<string, number>,
): string {
  const dropped =
    held < outcome.connected
      ? `; ${formatInt(outcome.connected - held)} of them were closed again (the server's reasons: ${formatCounts(closeReasons)})`
      : '';
  if (outcome.connected >= settings.target) {
    return `reached the target of ${formatInt(settings.target)} connections${dropped}`;
  }
  // Near the limit: a few descriptors are the server's own (listeners, database pool, logs).
  const ranOut = Number.isFinite(limit) && peakOpenFiles >= limit - OPEN_FILES_RESERVE;
  return (
    `stopped at ${formatInt(outcome.connected)} connections${dropped}; refused attempts: ${formatCounts(outcome.failures)}. ` +
    `The server held up to ${formatInt(peakOpenFiles)} open files of its limit of ${formatInt(limit)}` +
    (ranOut
      ? ': it ran out of file descriptors (one per socket; the limit cannot be raised here), and then accepted and at once closed new connections'
      : '')
  );
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((x, y) => y[1] - x[1]);
  return entries.length === 0 ? 'none' : entries.map(([reason, count]) => `${reason} ×${formatInt(count)}`).join(', ');
}

function connectionsTable(settings: Settings, hub: ServerResult, peers: ServerResult[]): Table {
  const results = [hub, ...peers];
  const yesNo = (value: boolean | undefined) => (value === undefined ? '–' : value ? 'yes' : 'no');
  return {
    title: `Connections: idle MQTT 3.1.1 devices, up to ${formatInt(settings.target)}, keep-alive ${settings.keepAliveSeconds} s, held ${settings.holdMs / 1000} s`,
    columns: [
      'Server',
      'connected',
      'held',
      'online in DB',
      'connects/s',
      'RSS before',
      'RSS holding',
      'RSS/connection',
      'CPU holding',
      'peak open files',
      'PINGRESPs',
      'API answers',
    ],
    rows: [
      ...results.map((result) => [
        result.server === 'hub' ? 'telehub' : result.server,
        formatInt(result.connected),
        formatInt(result.held),
        result.serverSessions === undefined ? '–' : formatInt(result.serverSessions),
        formatInt(result.connectsPerSec),
        formatBytes(result.idleRssBytes),
        formatBytes(result.loadedRssBytes),
        formatBytes(result.bytesPerConnection),
        formatCpu(result.holdCpuCores),
        `${formatInt(result.peakOpenFiles)}/${formatInt(result.openFilesLimit)}`,
        formatInt(result.pingResponses),
        yesNo(result.apiAnswers),
      ]),
      ...peers.map((peer) => [
        `ratio telehub ÷ ${peer.server}`,
        formatRatio(hub.connected / peer.connected),
        formatRatio(hub.held / peer.held),
        '',
        formatRatio(hub.connectsPerSec / peer.connectsPerSec),
        '',
        '',
        formatRatio(hub.bytesPerConnection / peer.bytesPerConnection),
        '',
        '',
        '',
        '',
      ]),
    ],
    notes: [
      'connected: CONNACKs during the ramp; held: still open at the end of the hold. RSS/connection: (RSS holding − RSS before) ÷ held.',
      'online in DB: devices the hub recorded as online (presence). API answers: GET /healthz at the end of the hold (it needs a file descriptor too).',
      'telehub authenticates each device (token lookup) and records presence; aedes and mosquitto accept anyone and record nothing.',
    ],
  };
}
