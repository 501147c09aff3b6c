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
import { askHubMqttPorts, mqttUrlFor } from './hub-mqtt-address.js';
import { SimulatedDevice } from './simulated-device.js';
import { SIMULATOR_LIMITS, type SimulatorOptions } from './simulator-options.js';
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
  const log = (line: string) => output.write(`${line}\n`);
  const adminToken = options.adminToken ?? (await readAdminTokenFile(options.adminTokenFile));
  const credentials = await loadDevices(options, adminToken, log);
  if (options.csvOut) {
    await writeDevicesCsv(options.csvOut, credentials);
    output.write(`Wrote ${credentials.length} devices with their tokens to ${options.csvOut}\n`);
  }
  const url = options.transport === 'ws' ? options.hubUrl : await resolveMqttUrl(options, adminToken, log);

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
      clientFor(options, url, device),
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

function clientFor(options: SimulatorOptions, url: string, device: DeviceCredentials): DeviceClient {
  return createDeviceClient(options.transport, {
    deviceId: device.id,
    token: device.token,
    url,
    reconnect: DEFAULT_RECONNECT_POLICY,
  });
}

/** TELEHUB_MQTT_PORT's and TELEHUB_MQTT_TLS_PORT's defaults. */
const DEFAULT_MQTT_PORTS = { mqttPort: 1883, mqttTlsPort: 8883 } as const;

/**
 * --mqtt-url, else the port the hub listens on, as its admin channel tells the dashboard (a hub started with
 * TELEHUB_MQTT_PORT is not on 1883). Without an admin token (devices from --csv) the hub cannot be asked:
 * the default ports, said so.
 */
async function resolveMqttUrl(
  options: SimulatorOptions,
  adminToken: string | undefined,
  log: (line: string) => void,
): Promise<string> {
  if (options.mqttUrl) return options.mqttUrl;
  if (!adminToken) {
    const url = mqttUrlFor(options.hubUrl, DEFAULT_MQTT_PORTS);
    log(`MQTT address ${url}: the default port, as there is no admin token to ask the hub with (--mqtt-url sets it)`);
    return url;
  }
  const ports = await askHubMqttPorts(options.hubUrl, adminToken, SIMULATOR_LIMITS.hubAnswerTimeoutMs);
  const url = mqttUrlFor(options.hubUrl, ports);
  log(`MQTT address ${url}, as the hub reports it`);
  return url;
}

async function loadDevices(
  options: SimulatorOptions,
  adminToken: string | undefined,
  log: (line: string) => void,
): Promise<DeviceCredentials[]> {
  if (options.csvIn) {
    const all = await readDevicesCsv(options.csvIn);
    const devices = options.devices === undefined ? all : all.slice(0, options.devices);
    log(`Using ${devices.length} of the ${all.length} devices in ${options.csvIn}`);
    return devices;
  }
  if (!adminToken) {
    throw new Error(
      `creating devices needs an admin token: pass --admin-token or set TELEHUB_ADMIN_TOKEN (no token in ${options.adminTokenFile}), or reuse devices with --csv`,
    );
  }
  const count = options.devices ?? 0;
  const devices = await provisionDevices({ hubUrl: options.hubUrl, adminToken, count, label: options.label });
  log(`Created ${devices.length} devices labelled ${options.label} on ${options.hubUrl}`);
  return devices;
}

/** The token the hub saved on its first start, if this machine has it. */
async function readAdminTokenFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch {
    return undefined; // loadDevices says what is missing when it needs the token
  }
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
