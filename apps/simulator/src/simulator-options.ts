import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEVICE_TRANSPORTS, type DeviceTransport } from '@telehub/device-client';

/** Bounds on what one simulator process is asked to do; each is named in --help. */
export const SIMULATOR_LIMITS = {
  /** The hub's default TELEHUB_MAX_CONNECTIONS: more would be refused anyway. */
  maxDevices: 20_000,
  /** Points per message; 1,000 × 4 metrics stays under the hub's TELEHUB_MAX_POINTS_PER_MESSAGE (5,000). */
  maxBatch: 1_000,
  minIntervalMs: 10,
  maxConnectRate: 1_000,
  /** How long the hub may take to say which MQTT port it listens on (admin channel connect and auth_ok). */
  hubAnswerTimeoutMs: 10_000,
} as const;

export interface SimulatorOptions {
  hubUrl: string;
  /** From --admin-token or TELEHUB_ADMIN_TOKEN; otherwise read from `adminTokenFile` when provisioning. */
  adminToken: string | undefined;
  /** Where the hub saves the admin token it generated on first start. */
  adminTokenFile: string;
  transport: DeviceTransport;
  /** From --mqtt-url; undefined: ask the hub which MQTT port it listens on. */
  mqttUrl: string | undefined;
  /** Devices to create, or (with `csvIn`) the first N of the file; undefined: all of the file. */
  devices: number | undefined;
  label: string;
  csvIn: string | undefined;
  csvOut: string | undefined;
  connectRate: number;
  intervalMs: number;
  /** Each interval is drawn from intervalMs × [1 − jitter, 1 + jitter]. */
  jitter: number;
  batch: number;
  seed: number;
  failShare: number;
  commandDelayMs: number;
  durationMs: number | undefined;
}

export const DEFAULT_DEVICES = 10;

export const USAGE = `Usage: npm run simulate -- [options]

Simulates a fleet of devices against a telehub hub: creates them through the REST API (or reuses a CSV of
them), connects them gradually over MQTT 3.1.1, MQTT 5 or JSON over WebSocket, sends telemetry that moves like
real sensors (temperature, humidity, battery, rssi: random walks with noise), and answers commands: each
device acknowledges a command, takes a moment, then succeeds or fails. Ctrl-C disconnects every device
properly and prints a summary.

Hub
  --hub URL               the hub's HTTP address (default http://localhost:8080)
  --admin-token TOKEN     admin token, to create devices (default: $TELEHUB_ADMIN_TOKEN, else the token the
                          hub saved in $TELEHUB_DATA_DIR/admin-token, ./.telehub/admin-token by default)
  --transport NAME        mqtt (MQTT 3.1.1), mqtt5 or ws (JSON over WebSocket) (default mqtt5)
  --mqtt-url URL          MQTT address (default: the port the hub reports, as it tells the dashboard:
                          mqtt://<hub host>:<port>, mqtts:// for an https:// hub; ports 1883 and 8883 when
                          there is no admin token to ask with). ws://<hub host>:8080/mqtt is MQTT over
                          WebSocket

Devices
  --devices N             devices to create (default ${DEFAULT_DEVICES}); with --csv, use the first N of the file
                          (default all). At most ${SIMULATOR_LIMITS.maxDevices.toLocaleString('en-US')}.
  --label LABEL           label of the devices it creates, next to "simulator" (default simulator)
  --csv FILE              reuse the devices in FILE (a header with id and token columns, as --write-csv or
                          POST /api/v1/devices/bulk with Accept: text/csv write it) instead of creating devices
  --write-csv FILE        write the devices' id,name,token to FILE (mode 0600: it holds their tokens)
  --connect-rate N        devices connected per second, so a large fleet does not stampede (default 50,
                          at most ${SIMULATOR_LIMITS.maxConnectRate})

Telemetry
  --interval DURATION     time between two messages of a device: 500ms, 1s, 2m… (default 1s, at least
                          ${SIMULATOR_LIMITS.minIntervalMs}ms)
  --jitter FRACTION       random spread of each interval, 0 to 1 (default 0.2: 1s becomes 0.8s to 1.2s)
  --batch N               points per message, sampled evenly across the interval with their own "ts"
                          (default 1, at most ${SIMULATOR_LIMITS.maxBatch})
  --seed N                seed of the simulated values (default: random); the same seed and devices
                          replay the same values

Commands
  --fail-share FRACTION   share of commands answered with a failure, 0 to 1 (default 0.1)
  --command-delay DURATION  how long a command takes before its result, ±50 % (default 1s)

Run
  --duration DURATION     stop after this long (default: until Ctrl-C or SIGTERM)
  -h, --help              print this text

Examples
  npm run simulate -- --devices 100 --interval 2s
  npm run simulate -- --devices 1000 --transport ws --batch 10 --write-csv fleet.csv
  npm run simulate -- --csv fleet.csv --transport mqtt --fail-share 0.5
`;

/** A command line the simulator cannot run with; the message says which option and why. */
export class SimulatorUsageError extends Error {
  override readonly name = 'SimulatorUsageError';
}

export type ParsedCommandLine = { help: true } | { help: false; options: SimulatorOptions };

/** Reads the command line (and TELEHUB_ADMIN_TOKEN, TELEHUB_DATA_DIR from `env`); throws SimulatorUsageError. */
export function parseSimulatorArgs(argv: string[], env: Record<string, string | undefined>): ParsedCommandLine {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        hub: { type: 'string' },
        'admin-token': { type: 'string' },
        transport: { type: 'string' },
        'mqtt-url': { type: 'string' },
        devices: { type: 'string' },
        label: { type: 'string' },
        csv: { type: 'string' },
        'write-csv': { type: 'string' },
        'connect-rate': { type: 'string' },
        interval: { type: 'string' },
        jitter: { type: 'string' },
        batch: { type: 'string' },
        seed: { type: 'string' },
        'fail-share': { type: 'string' },
        'command-delay': { type: 'string' },
        duration: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SimulatorUsageError((error as Error).message);
  }
  if (values.help) return { help: true };
  const text = (name: string) => values[name] as string | undefined;

  const hubUrl = httpUrl('--hub', text('hub') ?? 'http://localhost:8080');
  const transport = (text('transport') ?? 'mqtt5') as DeviceTransport;
  if (!DEVICE_TRANSPORTS.includes(transport)) {
    throw new SimulatorUsageError(`--transport must be mqtt, mqtt5 or ws, got ${JSON.stringify(transport)}`);
  }
  const mqttUrl = text('mqtt-url');
  if (mqttUrl !== undefined && (!/^(mqtts?|wss?):\/\/./.test(mqttUrl) || !URL.canParse(mqttUrl))) {
    throw new SimulatorUsageError(`--mqtt-url must be mqtt://, mqtts:// or ws(s)://host:port/mqtt, got ${mqttUrl}`);
  }
  const csvIn = text('csv');
  const label = text('label') ?? 'simulator';
  if (!/^[\w.:/-]{1,100}$/.test(label)) {
    throw new SimulatorUsageError(
      `--label holds 1-100 letters, digits and . _ : / - only, got ${JSON.stringify(label)}`,
    );
  }
  const devicesText = text('devices');
  const options: SimulatorOptions = {
    hubUrl,
    adminToken: text('admin-token') ?? (env.TELEHUB_ADMIN_TOKEN || undefined),
    adminTokenFile: join(env.TELEHUB_DATA_DIR || '.telehub', 'admin-token'),
    transport,
    mqttUrl,
    devices:
      devicesText === undefined
        ? csvIn
          ? undefined
          : DEFAULT_DEVICES
        : integer('--devices', devicesText, 1, SIMULATOR_LIMITS.maxDevices),
    label,
    csvIn,
    csvOut: text('write-csv'),
    connectRate: number('--connect-rate', text('connect-rate') ?? '50', 0.01, SIMULATOR_LIMITS.maxConnectRate),
    intervalMs: duration('--interval', text('interval') ?? '1s', SIMULATOR_LIMITS.minIntervalMs),
    jitter: number('--jitter', text('jitter') ?? '0.2', 0, 1),
    batch: integer('--batch', text('batch') ?? '1', 1, SIMULATOR_LIMITS.maxBatch),
    seed:
      text('seed') === undefined
        ? Math.floor(Math.random() * 2 ** 32)
        : integer('--seed', text('seed')!, 0, 2 ** 32 - 1),
    failShare: number('--fail-share', text('fail-share') ?? '0.1', 0, 1),
    commandDelayMs: duration('--command-delay', text('command-delay') ?? '1s', 0),
    durationMs: text('duration') === undefined ? undefined : duration('--duration', text('duration')!, 1),
  };
  if (csvIn && options.csvOut && csvIn === options.csvOut) {
    throw new SimulatorUsageError('--write-csv must name another file than --csv');
  }
  return { help: false, options };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `1s`, `1.5s`, `2m`, `1h` → milliseconds. A unit is required: is "5" seconds or milliseconds? */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]!]!);
}

function duration(flag: string, value: string, minMs: number): number {
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new SimulatorUsageError(`${flag} must be a duration like 500ms, 1s or 2m, got ${JSON.stringify(value)}`);
  if (ms < minMs) throw new SimulatorUsageError(`${flag} must be at least ${minMs}ms, got ${value}`);
  return ms;
}

function number(flag: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new SimulatorUsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    throw new SimulatorUsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function httpUrl(flag: string, value: string): string {
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new SimulatorUsageError(`${flag} must be an http:// or https:// address, got ${JSON.stringify(value)}`);
  }
  // No trailing slash: API paths are appended to it.
  return value.replace(/\/+$/, '');
}
