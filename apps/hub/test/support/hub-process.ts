import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { generateToken } from '../../src/auth/token-codec.js';

export interface HubProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly mqttPort: number | undefined;
  readonly adminToken: string;
  readonly logs: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

const MAIN = resolve(import.meta.dirname, '../../../../dist/apps/hub/src/main.js');

export interface HubProcessOptions {
  /** Start the hub under this open-files limit (`ulimit -n`), as a container's `ulimits: nofile` would. */
  openFilesLimit?: number;
}

/** The built hub's entry point with the test settings (ephemeral ports, JSON logs) and `env` on top. */
async function spawnHub(
  databaseUrl: string,
  adminToken: string,
  env: Record<string, string>,
  options: HubProcessOptions = {},
): Promise<ChildProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'telehub-proc-'));
  const node = [process.execPath, '--enable-source-maps', MAIN];
  // The shell lowers its limit and then becomes node (exec), so the child's pid and signals are the hub's.
  const [command, ...args] =
    options.openFilesLimit === undefined
      ? node
      : ['/bin/sh', '-c', 'ulimit -n "$0" && exec "$@"', String(options.openFilesLimit), ...node];
  return spawn(command!, args, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TELEHUB_HTTP_HOST: '127.0.0.1',
      TELEHUB_HTTP_PORT: '0',
      TELEHUB_MQTT_PORT: '0',
      TELEHUB_DATA_DIR: dataDir,
      TELEHUB_ADMIN_TOKEN: adminToken,
      TELEHUB_LOG_FORMAT: 'json',
      TELEHUB_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * The built hub (`npm run build` output, as `npm start` runs it) as a child process, for what only a real
 * process shows: signals and exit codes. The test command builds first (the `pretest` script). Resolves once
 * the hub logged that it is ready; `mqttPort` is undefined when plain listeners are off.
 */
export async function startHubProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
  readyTimeoutMs = 15_000,
  options: HubProcessOptions = {},
): Promise<HubProcess> {
  const adminToken = generateToken('admin').token;
  const child = await spawnHub(databaseUrl, adminToken, env, options);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const ports = await new Promise<{ http: number; mqtt: number | undefined }>((resolvePorts, reject) => {
    const found: { http?: number; mqtt?: number } = {};
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      logs.push(line);
      const http = line.match(/HTTP API listening on https?:\/\/localhost:(\d+)/);
      const mqtt = line.match(/MQTT listening on mqtt:\/\/localhost:(\d+)/);
      if (http) found.http = Number(http[1]);
      if (mqtt) found.mqtt = Number(mqtt[1]);
      if (found.http && line.includes('"msg":"telehub is ready"')) resolvePorts({ http: found.http, mqtt: found.mqtt });
    });
    void exited.then((code) => reject(new Error(`hub exited early (${code}):\n${logs.join('\n')}`)));
    setTimeout(
      () => reject(new Error(`hub did not report its ports in ${readyTimeoutMs} ms:\n${logs.join('\n')}`)),
      readyTimeoutMs,
    ).unref();
  });
  return { child, httpPort: ports.http, mqttPort: ports.mqtt, adminToken, logs, exited };
}

/** Starts the built hub expecting it to refuse to start: resolves with its exit code and everything it wrote. */
export async function runFailingHubProcess(
  databaseUrl: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = await spawnHub(databaseUrl, generateToken('admin').token, env);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolveExit) =>
    child.once('close', (exitCode) => resolveExit(exitCode)),
  );
  clearTimeout(timer);
  return { code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
}
