import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './support/admin-client.js';
import { ADMIN_TOKENS, as } from './support/admin-tokens.js';
import { ADMIN_TOKEN, ANY_TOKEN, DEVICES, expectProblem } from './support/api-assertions.js';
import { startHubProcess } from './support/hub-process.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const CLI = resolve(import.meta.dirname, '../../../dist/apps/hub/src/cli/admin.js');
const SECRET = /tha_[A-Za-z0-9_-]{43}/g;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI (`node dist/apps/hub/src/cli/admin.js`, as in the Docker image) as a child process. */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
  });
}

describe('admin CLI (the built dist/apps/hub/src/cli/admin.js) against the hub database', { timeout: 60_000 }, () => {
  let hub: TestHub;
  let env: Record<string, string>;

  beforeAll(async () => {
    hub = await startTestHub();
    // The hub's own settings, as a container's environment gives them to both.
    env = { DATABASE_URL: hub.database.url, TELEHUB_DATA_DIR: hub.dataDir };
  });
  afterAll(() => hub?.close());

  it('token create prints the secret once; the token works on the running hub with its role and expiry', async () => {
    const before = Date.now();
    const run = await runCli(['token', 'create', '--name', 'ops', '--role', 'operator', '--expires', '30d'], env);
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
    const secrets = run.stdout.match(SECRET) ?? [];
    expect(secrets).toHaveLength(1);
    const token = secrets[0]!;
    expect(token).toMatch(ADMIN_TOKEN);
    expect(run.stdout).toContain('Created admin token "ops" (role operator, expires ');
    expect(run.stdout).toContain('shown this once');

    const me = await hub.api('GET', `${ADMIN_TOKENS}/me`, as(token));
    expect(me.body).toMatchObject({ name: 'ops', role: 'operator', source: 'cli' });
    const expiresAt = Date.parse(me.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);
    expect((await hub.api('GET', DEVICES, as(token))).status).toBe(200);
    expectProblem(await hub.api('POST', DEVICES, as(token, { body: { name: 'x' } })), 403, 'forbidden');
  });

  it('token create --json answers the token record with its secret', async () => {
    const run = await runCli(['token', 'create', '--name', 'scripted', '--role', 'viewer', '--json'], env);
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout);
    expect(created).toMatchObject({ name: 'scripted', role: 'viewer', source: 'cli', expiresAt: null, active: true });
    expect(created.token).toMatch(ADMIN_TOKEN);
  });

  it('token list shows every token with hint, role, source and status, and no secret', async () => {
    const run = await runCli(['token', 'list'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(ANY_TOKEN);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+ROLE\s+SOURCE\s+HINT\s+CREATED\s+LAST USED\s+EXPIRES\s+STATUS$/);
    expect(rows.find((row) => row.includes(' ops '))).toMatch(/ operator\s+cli\s+tha_…\S{4}\s.*\sactive$/);
    expect(rows.find((row) => row.includes('environment'))).toMatch(/ admin\s+environment\s+tha_…/);
    const listed = JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout);
    expect(listed.map((token: { name: string }) => token.name)).toEqual(
      expect.arrayContaining(['environment', 'ops', 'scripted']),
    );
    expect(JSON.stringify(listed)).not.toMatch(ANY_TOKEN);
  });

  it('token revoke <name> revokes it, and the running hub closes its admin WebSocket connections', async () => {
    const created = JSON.parse(
      (await runCli(['token', 'create', '--name', 'wall', '--role', 'viewer', '--json'], env)).stdout,
    );
    const client = await AdminClient.signedIn(hub.baseUrl, created.token);

    const run = await runCli(['token', 'revoke', 'wall'], env);

    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`Revoked admin token "wall" (id ${created.id}, role viewer)`);
    const closed = await Promise.race([
      client.closed,
      new Promise((resolveWait) => setTimeout(() => resolveWait('still open after 5 s'), 5000)),
    ]);
    expect(closed).toEqual({ code: 4403, reason: 'admin token revoked' });
    expectProblem(await hub.api('GET', DEVICES, as(created.token)), 401, 'unauthorized');
  });

  it('token revoke <id> works too; a second revoke is refused with exit code 1', async () => {
    const created = JSON.parse(
      (await runCli(['token', 'create', '--name', 'by-id', '--role', 'viewer', '--json'], env)).stdout,
    );
    expect((await runCli(['token', 'revoke', created.id], env)).code).toBe(0);
    const again = await runCli(['token', 'revoke', created.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('admin_token_already_revoked');
  });

  it('refuses what the API refuses, with exit code 1 and the reason on stderr', async () => {
    const taken = await runCli(['token', 'create', '--name', 'ops', '--role', 'viewer'], env);
    expect(taken).toMatchObject({ code: 1, stdout: '' });
    expect(taken.stderr).toContain('admin_token_name_taken');

    const environment = await runCli(['token', 'revoke', 'environment'], env);
    expect(environment.code).toBe(1);
    expect(environment.stderr).toContain('TELEHUB_ADMIN_TOKEN');

    const unknown = await runCli(['token', 'revoke', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('admin_token_not_found');

    const past = await runCli(
      ['token', 'create', '--name', 'late', '--role', 'viewer', '--expires', '2020-01-01T00:00:00Z'],
      env,
    );
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('--expires must be in the future');
  });

  it('answers wrong usage with exit code 2 and the usage, without touching the database', async () => {
    const run = await runCli(['token', 'create', '--name', 'x', '--role', 'root'], {
      DATABASE_URL: 'postgres://nowhere.invalid/x',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--role must be one of viewer, operator, admin');
    expect(run.stderr).toContain('Usage: admin token <command>');
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('token create --name <name> --role <viewer|operator|admin>');
  });

  it('reports a bad setting the way the hub does, with exit code 1', async () => {
    const run = await runCli(['token', 'list'], { DATABASE_URL: 'mysql://db/x' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  });
});

describe('admin CLI beside a hub on its embedded PostgreSQL', { timeout: 120_000 }, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telehub-cli-embedded-'));
    // Run as root, the embedded server runs as the `postgres` user, which must be able to enter this directory.
    await chmod(dataDir, 0o755);
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("uses the hub's running database server, leaving the hub serving", async () => {
    const proc = await startHubProcess('', { DATABASE_URL: '', TELEHUB_DATA_DIR: dataDir }, 60_000);
    try {
      const base = `http://127.0.0.1:${proc.httpPort}`;
      const run = await runCli(['token', 'create', '--name', 'local', '--role', 'admin', '--json'], {
        TELEHUB_DATA_DIR: dataDir,
      });
      expect(run, run.stderr).toMatchObject({ code: 0 });
      const { token } = JSON.parse(run.stdout);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const response = await fetch(`${base}${DEVICES}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });
});
