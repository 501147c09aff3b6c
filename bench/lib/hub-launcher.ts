import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEVICE_LIMITS } from '@telehub/contracts';
import { generateToken } from '../../apps/hub/src/auth/token-codec.js';
import { trackChild } from './child-worker.js';
import { HUB_MAIN } from './repo-paths.js';

/** How long the hub may take to start (migrations are a no-op on a cloned template) or to stop. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
/** Hub log lines kept for the report when something goes wrong. */
const KEPT_LOG_LINES = 200;

export interface ProvisionedDevice {
  id: string;
  token: string;
}

export interface LaunchHubOptions {
  databaseUrl: string;
  /** TELEHUB_* settings for this bench, on top of the hub's defaults; reported with the results. */
  env: Record<string, string>;
  /** Write a V8 CPU profile of the hub (node --cpu-prof) into this directory when it stops… */
  cpuProfileDir?: string;
  /** …named after this (a unique suffix is added). */
  cpuProfileName?: string;
  /** Extra Node.js options for the hub process (e.g. --max-semi-space-size=32), for experiments. */
  nodeOptions?: string[];
  /** Another build's main.js (--compare-hub), for an A/B of two builds in the same rounds; default: this build's. */
  main?: string;
  /**
   * TELEHUB_ADMIN_TOKEN; default: a new one. Hubs sharing a database must share it: a hub registers its own as the
   * one environment token and revokes the one before.
   */
  adminToken?: string;
}

export interface LaunchedHub {
  readonly pid: number;
  readonly httpPort: number;
  readonly mqttPort: number;
  readonly baseUrl: string;
  /** TELEHUB_ADMIN_TOKEN of this hub, for the admin API. */
  readonly adminToken: string;
  /** Log lines at level warn or above, shortened to their message and error, for the report. */
  readonly warnings: string[];
  provision(count: number, namePrefix: string): Promise<ProvisionedDevice[]>;
  /** /metrics as name{labels} → value. */
  scrapeMetrics(): Promise<Map<string, number>>;
  /** SIGTERM and wait for the graceful stop; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** True once the process has exited (crashed, or stopped). */
  readonly hasExited: boolean;
  /** The last log lines, for an error message. */
  recentLogs(): string;
}

/**
 * The built hub as its own process (`node dist/apps/hub/src/main.js`, as `npm start` runs it), on loopback
 * with ephemeral ports, against the given database, with an admin token chosen here.
 */
export async function launchHub(options: LaunchHubOptions): Promise<LaunchedHub> {
  const adminToken = options.adminToken ?? generateToken('admin').token;
  const dataDir = await mkdtemp(join(tmpdir(), 'telehub-bench-hub-'));
  // The Node.js options `npm start` and the Dockerfile run the hub with, so the bench measures it as shipped.
  const execArgv = ['--enable-source-maps', '--max-semi-space-size=64', ...(options.nodeOptions ?? [])];
  if (options.cpuProfileDir) {
    await mkdir(options.cpuProfileDir, { recursive: true });
    const name = `${(options.cpuProfileName ?? 'hub').replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${Date.now()}`;
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  }
  const child: ChildProcess = spawn(process.execPath, [...execArgv, options.main ?? HUB_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      TELEHUB_HTTP_HOST: '127.0.0.1',
      TELEHUB_HTTP_PORT: '0',
      TELEHUB_MQTT_PORT: '0',
      TELEHUB_DATA_DIR: dataDir,
      TELEHUB_ADMIN_TOKEN: adminToken,
      TELEHUB_LOG_FORMAT: 'json',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const logs: string[] = [];
  const warnings: string[] = [];
  const keep = (line: string) => {
    logs.push(line);
    if (logs.length > KEPT_LOG_LINES) logs.shift();
  };
  let exited = false;
  const exitedPromise = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  createInterface({ input: child.stderr! }).on('line', keep);
  // With TELEHUB_WORKERS the first worker reports the ports before the others serve: wait for the primary's
  // "telehub is ready" (it carries `workers`, and needs TELEHUB_LOG_LEVEL info), so every worker takes connections.
  const workers = Number(options.env.TELEHUB_WORKERS ?? 1);
  const ports = await new Promise<{ http: number; mqtt: number }>((resolve, reject) => {
    const found: { http?: number; mqtt?: number; workersReady?: boolean } = {};
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (/"level":([4-9]\d)/.test(line)) warnings.push(shortLogLine(line));
      const http = line.match(/HTTP API listening on http:\/\/localhost:(\d+)/);
      const mqtt = line.match(/MQTT listening on mqtt:\/\/localhost:(\d+)/);
      if (http) found.http = Number(http[1]);
      if (mqtt) found.mqtt = Number(mqtt[1]);
      if (/"workers":\d+/.test(line) && line.includes('"msg":"telehub is ready"')) found.workersReady = true;
      if (found.http && found.mqtt && (workers <= 1 || found.workersReady))
        resolve({ http: found.http, mqtt: found.mqtt });
    });
    void exitedPromise.then((code) => reject(new Error(`hub exited early (${code}):\n${logs.join('\n')}`)));
    setTimeout(
      () =>
        reject(
          new Error(
            `hub did not report its ports in ${START_TIMEOUT_MS * Math.max(1, workers)} ms:\n${logs.join('\n')}`,
          ),
        ),
      START_TIMEOUT_MS * Math.max(1, workers),
    ).unref();
  });
  const baseUrl = `http://127.0.0.1:${ports.http}`;

  return {
    pid: child.pid!,
    httpPort: ports.http,
    mqttPort: ports.mqtt,
    baseUrl,
    adminToken,
    warnings,
    get hasExited() {
      return exited;
    },
    recentLogs: () => logs.slice(-40).join('\n'),
    provision: (count, namePrefix) => provisionDevices(baseUrl, adminToken, count, namePrefix),
    scrapeMetrics: async () => {
      const response = await fetch(`${baseUrl}/metrics`, { headers: { Authorization: `Bearer ${adminToken}` } });
      if (!response.ok) throw new Error(`/metrics answered ${response.status}: ${await response.text()}`);
      return parsePrometheus(await response.text());
    },
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exitedPromise;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
      return exitedPromise;
    },
  };
}

/** A pino JSON line as `message (error message)`. */
function shortLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    return entry.err?.message ? `${entry.msg} (${entry.err.message})` : (entry.msg ?? line);
  } catch {
    return line;
  }
}

/** Creates devices through the admin API's bulk endpoint, as an operator would, in requests of the largest allowed size. */
async function provisionDevices(
  baseUrl: string,
  adminToken: string,
  count: number,
  namePrefix: string,
): Promise<ProvisionedDevice[]> {
  const devices: ProvisionedDevice[] = [];
  while (devices.length < count) {
    const size = Math.min(DEVICE_LIMITS.bulkMaxDevices, count - devices.length);
    const offset = devices.length;
    const body = Array.from({ length: size }, (_, index) => ({ name: `${namePrefix}-${offset + index}` }));
    const response = await fetch(`${baseUrl}/api/v1/devices/bulk`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201)
      throw new Error(`bulk provisioning failed: ${response.status} ${await response.text()}`);
    const created = (await response.json()) as ProvisionedDevice[];
    for (const device of created) devices.push({ id: device.id, token: device.token });
  }
  return devices;
}

/** Prometheus text format, samples only: `name{labels} value` → map. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** What the hub's ingest histograms say about one interval: batch sizes, commit times, event-loop delay. */
export interface IngestMetricsDelta {
  batches: number;
  meanBatchRows: number;
  meanFlushMs: number;
  /** From the histogram's buckets: the upper bound of the bucket holding the 99th percentile. */
  flushP99Ms: number;
  backPressurePauses: number;
  /** prom-client measures event-loop delay between scrapes; read at the end of the interval. */
  eventLoopLagP99Ms: number;
}

const FLUSH_HISTOGRAM = 'telehub_flush_duration_seconds';

export function ingestMetricsDelta(before: Map<string, number>, after: Map<string, number>): IngestMetricsDelta {
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const batches = delta('telehub_batch_rows_count');
  return {
    batches,
    meanBatchRows: batches > 0 ? delta('telehub_batch_rows_sum') / batches : Number.NaN,
    meanFlushMs: batches > 0 ? (delta(`${FLUSH_HISTOGRAM}_sum`) / batches) * 1000 : Number.NaN,
    flushP99Ms: histogramPercentile(before, after, FLUSH_HISTOGRAM, 0.99) * 1000,
    backPressurePauses: delta('telehub_backpressure_pauses_total'),
    eventLoopLagP99Ms: (after.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
  };
}

/** A percentile of a Prometheus histogram over an interval, as the upper bound (le) of the bucket holding it. */
function histogramPercentile(
  before: Map<string, number>,
  after: Map<string, number>,
  name: string,
  fraction: number,
): number {
  const prefix = `${name}_bucket{le="`;
  const buckets: Array<{ le: number; count: number }> = [];
  for (const [key, value] of after) {
    if (!key.startsWith(prefix)) continue;
    const le = key.slice(prefix.length, key.indexOf('"', prefix.length));
    buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: value - (before.get(key) ?? 0) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  return buckets.find((bucket) => bucket.count >= fraction * total)?.le ?? Number.NaN;
}
