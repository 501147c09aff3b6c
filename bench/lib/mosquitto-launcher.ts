import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { sleep } from './benchmark.js';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface LaunchedMosquitto {
  readonly pid: number;
  readonly port: number;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * The `mosquitto` broker binary (Debian's `mosquitto` package installs /usr/sbin/mosquitto), or undefined when
 * this machine has none: the peer is then left out of the run.
 */
export function findMosquitto(): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const directory of directories) {
    const candidate = join(directory, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * mosquitto on 127.0.0.1, an ephemeral port, in memory (no persistence), accepting any client (the bench's
 * devices send a username and password it does not check), with no connection limit of its own: like aedes, a
 * peer that stores nothing. It inherits the bench's open-files limit.
 */
export async function launchMosquitto(binary: string): Promise<LaunchedMosquitto> {
  const port = await freePort();
  const directory = mkdtempSync(join(tmpdir(), 'telehub-bench-mosquitto-'));
  const configFile = join(directory, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_connections -1',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  try {
    await waitForPort(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
    throw new Error(`mosquitto did not start: ${(error as Error).message}; ${stderr.trim()}`);
  }
  return {
    pid: child.pid as number,
    port,
    version: await mosquittoVersion(binary),
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(STOP_TIMEOUT_MS)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function mosquittoVersion(binary: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['-h'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('close', () => resolve(/mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown'));
    child.on('error', () => resolve('unknown'));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`port ${port} not open after ${START_TIMEOUT_MS} ms`);
}
