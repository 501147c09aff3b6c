import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { TerminalOutput } from '../src/admin-auth/admin-token-bootstrap.service.js';
import { generateToken } from '../src/auth/token-codec.js';
import { ANY_TOKEN, DEVICES, expectProblem } from './support/api-assertions.js';
import { startHubProcess } from './support/hub-process.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const BANNER_TOKEN = /tha_[A-Za-z0-9_-]{43}/g;
const CLI_LINE = 'node dist/apps/hub/src/cli/admin.js token create --name <name> --role admin';
const MAIN = resolve(import.meta.dirname, '../../../dist/apps/hub/src/main.js');

/** A database and data directory that outlive one hub, so a second hub can start on the same data. */
interface Site {
  database: TestDatabase;
  root: string;
  dataDir: string;
}

describe('first-start admin token and TELEHUB_ADMIN_TOKEN', () => {
  const sites: Site[] = [];
  const hubs: TestHub[] = [];

  afterEach(async () => {
    for (const hub of hubs.splice(0)) await hub.close();
    for (const site of sites.splice(0)) {
      await site.database.drop();
      await rm(site.root, { recursive: true, force: true });
    }
  });

  async function newSite(): Promise<Site> {
    const root = await mkdtemp(join(tmpdir(), 'telehub-bootstrap-'));
    // A data directory that does not exist yet: the hub must create it.
    const site = { database: await createTestDatabase(), root, dataDir: join(root, 'data', 'telehub') };
    sites.push(site);
    return site;
  }

  /**
   * Starts a hub on the site with no admin token from the harness (only from `env`, if any), its stdout a
   * terminal or not; returns what it printed there and what it logged.
   */
  async function start(site: Site, options: { env?: Record<string, string>; terminal?: boolean } = {}) {
    const printed: string[] = [];
    const logged: string[] = [];
    const logs = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const terminal: TerminalOutput = { isTTY: options.terminal ?? true, write: (text) => printed.push(text) };
    const hub = await startTestHub(
      { TELEHUB_LOG_LEVEL: 'trace', TELEHUB_LOG_FORMAT: 'json', ...options.env },
      { withoutAdminToken: true, terminal, database: site.database, dataDir: site.dataDir, logDestination: logs },
    );
    hubs.push(hub);
    // pino writes asynchronously: let the start-up lines arrive.
    await new Promise((resolveTick) => setImmediate(resolveTick));
    return { hub, printed, logged };
  }

  const withToken = (token: string) => ({ auth: false, headers: { Authorization: `Bearer ${token}` } });

  it('on a terminal: prints a tha_ token once, saves it to <dataDir>/admin-token with mode 0600, and it works', async () => {
    const site = await newSite();
    const { hub, printed, logged } = await start(site, { terminal: true });

    expect(printed).toHaveLength(1);
    const tokens = printed[0]!.match(BANNER_TOKEN) ?? [];
    expect(new Set(tokens).size).toBe(1);
    const token = tokens[0]!;
    const file = join(site.dataDir, 'admin-token');
    expect(printed[0]).toContain(file);

    expect(await readFile(file, 'utf8')).toBe(`${token}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    expect((await hub.api('GET', DEVICES, withToken(token))).status).toBe(200);
    expect((await hub.api('POST', DEVICES, { ...withToken(token), body: { name: 'by-bootstrap' } })).status).toBe(201);
    expect((await hub.api('GET', DEVICES, { auth: false })).status).toBe(401);
    const me = await hub.api('GET', '/api/v1/admin-tokens/me', withToken(token));
    expect(me.body).toMatchObject({ name: 'initial', role: 'admin', source: 'bootstrap', expiresAt: null });

    expect(logged.length).toBeGreaterThan(5);
    expect(logged.join('')).not.toContain(token);
    expect(logged.join('')).not.toContain(token.slice(4));
  });

  it('when stdout is not a terminal: prints nothing, logs the 0600 file and the CLI line, never the secret', async () => {
    const site = await newSite();
    const { hub, printed, logged } = await start(site, { terminal: false });

    expect(printed).toEqual([]);
    const file = join(site.dataDir, 'admin-token');
    const token = (await readFile(file, 'utf8')).trim();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await hub.api('GET', DEVICES, withToken(token))).status).toBe(200);

    const lines = logged
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const notice = lines.find((line) => line.file === file && String(line.msg).includes('not printed'));
    expect(notice, logged.join('')).toBeDefined();
    expect(notice.msg).toContain(file);
    expect(notice.msg).toContain(CLI_LINE);
    expect(notice.cli).toBe(CLI_LINE);
    expect(logged.join('')).not.toMatch(ANY_TOKEN);
    expect(logged.join('')).not.toContain(token.slice(4));
  });

  it('does not print or save a new token when it restarts on the same database; the first still works', async () => {
    const site = await newSite();
    const first = await start(site);
    const token = first.printed[0]!.match(BANNER_TOKEN)![0];
    await hubs.pop()!.close();

    const second = await start(site);

    expect(second.printed).toEqual([]);
    expect(await readFile(join(site.dataDir, 'admin-token'), 'utf8')).toBe(`${token}\n`);
    expect((await second.hub.api('GET', DEVICES, withToken(token))).status).toBe(200);
    const [row] = await site.database.client.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM admin_tokens`;
    expect(row!.count).toBe(1);
    expect(second.logged.join('')).toContain('admin-token');
  });

  it('makes two different tokens for two fresh installations', async () => {
    const one = (await start(await newSite())).printed.join('').match(BANNER_TOKEN)![0];
    const two = (await start(await newSite())).printed.join('').match(BANNER_TOKEN)![0];
    expect(one).not.toBe(two);
  });

  it('prints nothing and writes no file when TELEHUB_ADMIN_TOKEN is set; the token is an admin from the environment', async () => {
    const site = await newSite();
    const adminToken = `tha_${'k'.repeat(43)}`;
    const { hub, printed, logged } = await start(site, { env: { TELEHUB_ADMIN_TOKEN: adminToken } });

    expect(printed).toEqual([]);
    await expect(stat(join(site.dataDir, 'admin-token'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await hub.api('GET', DEVICES, withToken(adminToken))).status).toBe(200);
    const me = await hub.api('GET', '/api/v1/admin-tokens/me', withToken(adminToken));
    expect(me.body).toMatchObject({ name: 'environment', role: 'admin', source: 'environment', expiresAt: null });
    expect(logged.join('')).not.toMatch(ANY_TOKEN);
  });

  it('when TELEHUB_ADMIN_TOKEN changes between two starts, the previous value stops working', async () => {
    const site = await newSite();
    const before = generateToken('admin').token;
    const after = generateToken('admin').token;
    await start(site, { env: { TELEHUB_ADMIN_TOKEN: before } });
    await hubs.pop()!.close();

    const { hub, printed, logged } = await start(site, { env: { TELEHUB_ADMIN_TOKEN: after } });

    expectProblem(await hub.api('GET', DEVICES, withToken(before)), 401, 'unauthorized');
    expect((await hub.api('GET', DEVICES, withToken(after))).status).toBe(200);
    const list = await hub.api('GET', '/api/v1/admin-tokens', withToken(after));
    expect(list.body).toEqual([
      expect.objectContaining({ source: 'environment', role: 'admin', active: false, revokedAt: expect.any(String) }),
      expect.objectContaining({ source: 'environment', role: 'admin', active: true, revokedAt: null }),
    ]);
    expect(printed).toEqual([]);
    expect(logged.join('')).toContain('TELEHUB_ADMIN_TOKEN changed');
    expect(logged.join('')).not.toMatch(ANY_TOKEN);
  });

  it('when TELEHUB_ADMIN_TOKEN is unset again, its token stops working and a first-start token is made', async () => {
    const site = await newSite();
    const before = generateToken('admin').token;
    await start(site, { env: { TELEHUB_ADMIN_TOKEN: before } });
    await hubs.pop()!.close();

    const { hub, printed } = await start(site, { terminal: true });

    expectProblem(await hub.api('GET', DEVICES, withToken(before)), 401, 'unauthorized');
    const token = printed.join('').match(BANNER_TOKEN)![0];
    expect((await hub.api('GET', DEVICES, withToken(token))).status).toBe(200);
  });

  it('a value used before works again when TELEHUB_ADMIN_TOKEN is set back to it', async () => {
    const site = await newSite();
    const first = generateToken('admin').token;
    const second = generateToken('admin').token;
    for (const value of [first, second]) {
      await start(site, { env: { TELEHUB_ADMIN_TOKEN: value } });
      await hubs.pop()!.close();
    }
    const { hub } = await start(site, { env: { TELEHUB_ADMIN_TOKEN: first } });
    expect((await hub.api('GET', DEVICES, withToken(first))).status).toBe(200);
    expectProblem(await hub.api('GET', DEVICES, withToken(second)), 401, 'unauthorized');
  });
});

describe('first-start admin token from the built hub (a child process)', { timeout: 60_000 }, () => {
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    for (const database of databases.splice(0)) await database.drop();
  });

  it('with stdout piped (as under docker compose): no secret on stdout or stderr, the log names the file', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const proc = await startHubProcess(database.url, { TELEHUB_ADMIN_TOKEN: '' });
    try {
      const output = proc.logs.join('\n');
      const notice = proc.logs
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => typeof line.file === 'string' && String(line.msg).includes('not printed'));
      expect(notice, output).toBeDefined();
      expect(notice.msg).toContain(CLI_LINE);
      const token = (await readFile(notice.file, 'utf8')).trim();
      expect(token).toMatch(/^tha_/);
      expect(output).not.toMatch(ANY_TOKEN);
      const response = await fetch(`http://127.0.0.1:${proc.httpPort}${DEVICES}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
    expect(proc.logs.join('\n')).not.toMatch(ANY_TOKEN);
  });

  it('with stdout a terminal (a pseudo-terminal from script(1)): prints the token banner', async () => {
    const database = await createTestDatabase();
    databases.push(database);
    const dataDir = await mkdtemp(join(tmpdir(), 'telehub-tty-'));
    // script(1) runs the hub with a pseudo-terminal as its stdout, as `npm start` in a terminal does.
    const child = spawn('script', ['-qfec', `exec ${process.execPath} ${MAIN}`, '/dev/null'], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        TELEHUB_HTTP_HOST: '127.0.0.1',
        TELEHUB_HTTP_PORT: '0',
        TELEHUB_MQTT_PORT: '0',
        TELEHUB_DATA_DIR: dataDir,
        TELEHUB_ADMIN_TOKEN: '',
        TELEHUB_LOG_FORMAT: 'json',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    try {
      for (let waited = 0; !output.includes('telehub is ready') && waited < 20_000; waited += 50) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
      expect(output).toContain('telehub is ready');
      const printed = output.match(BANNER_TOKEN) ?? [];
      expect(new Set(printed).size).toBe(1);
      expect(output).toContain('telehub admin token (shown once');
      expect(`${printed[0]}\n`).toBe(await readFile(join(dataDir, 'admin-token'), 'utf8'));
    } finally {
      // The hub's pid is in every JSON log line; stop it the way a terminal's Ctrl-C would.
      const pid = Number(output.match(/"pid":(\d+)/)?.[1]);
      if (pid > 0) process.kill(pid, 'SIGINT');
      else child.kill('SIGKILL');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
