import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDeviceClient,
  DEFAULT_RECONNECT_POLICY,
  type DeviceClient,
  seededRandom,
  seedFromText,
} from '@telehub/device-client';
import { type DeviceCredentials, provisionDevices, readDevicesCsv, writeDevicesCsv } from './device-roster.js';
import { SimulatedDevice } from './simulated-device.js';
import type { SimulatorOptions } from './simulator-options.js';
import { formatStatus, formatSummary, SimulatorStats, type SimulatorSummary, summarize } from './simulator-stats.js';
import { StatusLine, type StatusOutput } from './status-line.js';

export interface SimulatorIo {
  /** Aborting it stops the run: every device disconnects properly, then the summary is printed. */
  signal?: AbortSignal;
  /** Status line and messages (a terminal gets a line refreshed in place). Default: process.stdout. */
  output?: StatusOutput;
}

/**
 * Runs a simulated fleet until `io.signal` aborts or `options.durationMs` passes: loads or creates the devices,
 * connects them at `connectRate` per second, lets them send and answer commands, then closes every client
 * and resolves with the totals.
 */
export async function runSimulator(options: SimulatorOptions, io: SimulatorIo = {}): Promise<SimulatorSummary> {
  const output = io.output ?? process.stdout;
  const credentials = await loadDevices(options, (line) => output.write(`${line}\n`));
  if (options.csvOut) {
    await writeDevicesCsv(options.csvOut, credentials);
    output.write(`Wrote ${credentials.length} devices with their tokens to ${options.csvOut}\n`);
  }

  const stats = new SimulatorStats();
  const devices: SimulatedDevice[] = [];
  const status = new StatusLine(output, () =>
    formatStatus({
      connected: devices.filter((device) => device.connected).length,
      devices: credentials.length,
      messagesPerSecond: stats.sampleRate(),
      stats,
    }),
  );
  const reporter = {
    error: (code: string, message: string) => {
      if (stats.recordError(code, message)) status.log(`first ${code}: ${message}`);
    },
    notice: (code: string, message: string) => {
      if (stats.firstOf(`notice:${code}`)) status.log(`first ${code}: ${message}`);
    },
  };

  const startedAt = Date.now();
  const { signal: stop, release } = stopSignal(io.signal, options.durationMs);
  output.write(
    `Connecting ${credentials.length} devices over ${options.transport} at ${options.connectRate}/s, ` +
      `a message every ${options.intervalMs} ms per device (seed ${options.seed}). Ctrl-C stops.\n`,
  );
  status.start();
  const spacingMs = 1000 / options.connectRate;
  for (const device of credentials) {
    if (stop.aborted) break;
    const simulated = new SimulatedDevice(
      device,
      clientFor(options, device),
      seededRandom(options.seed ^ seedFromText(device.id)),
      options,
      stats,
      reporter,
    );
    devices.push(simulated);
    void simulated.start().catch((error: Error) => reporter.error('ERR_START', `${device.name}: ${error.message}`));
    await sleep(spacingMs, undefined, { signal: stop }).catch(() => undefined);
  }
  if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  release();

  status.log(`Stopping: disconnecting ${devices.length} devices…`);
  await Promise.all(devices.map((device) => device.stop()));
  status.stop();
  const summary = summarize(stats, credentials.length, Date.now() - startedAt);
  output.write(`${formatSummary(summary)}\n`);
  return summary;
}

function clientFor(options: SimulatorOptions, device: DeviceCredentials): DeviceClient {
  return createDeviceClient(options.transport, {
    deviceId: device.id,
    token: device.token,
    url: options.transport === 'ws' ? options.hubUrl : options.mqttUrl,
    reconnect: DEFAULT_RECONNECT_POLICY,
  });
}

async function loadDevices(options: SimulatorOptions, log: (line: string) => void): Promise<DeviceCredentials[]> {
  if (options.csvIn) {
    const all = await readDevicesCsv(options.csvIn);
    const devices = options.devices === undefined ? all : all.slice(0, options.devices);
    log(`Using ${devices.length} of the ${all.length} devices in ${options.csvIn}`);
    return devices;
  }
  const adminToken = options.adminToken ?? (await readAdminTokenFile(options.adminTokenFile));
  const count = options.devices ?? 0;
  const devices = await provisionDevices({ hubUrl: options.hubUrl, adminToken, count, label: options.label });
  log(`Created ${devices.length} devices labelled ${options.label} on ${options.hubUrl}`);
  return devices;
}

async function readAdminTokenFile(path: string): Promise<string> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token) return token;
  } catch {
    // explained below
  }
  throw new Error(
    `creating devices needs an admin token: pass --admin-token or set TELEHUB_ADMIN_TOKEN (no token in ${path}), or reuse devices with --csv`,
  );
}

/**
 * Aborts when the caller's signal does or the run's duration is over. Its timer is a normal (ref'd) one: it
 * keeps the process alive until the stop even when every device has given up and no socket is left.
 */
function stopSignal(
  signal: AbortSignal | undefined,
  durationMs: number | undefined,
): { signal: AbortSignal; release: () => void } {
  const stop = new AbortController();
  const abort = () => stop.abort();
  const timer = durationMs === undefined ? setInterval(() => undefined, 60_000) : setTimeout(abort, durationMs);
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort, { once: true });
  return {
    signal: stop.signal,
    release: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    },
  };
}
