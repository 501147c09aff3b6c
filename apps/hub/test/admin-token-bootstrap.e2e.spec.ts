import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ANY_TOKEN, DEVICES } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const BANNER_TOKEN = /tha_[A-Za-z0-9_-]{43}/g;

/** A database and data directory that outlive one hub, so a second hub can start on the same data. */
interface Site {
  database: TestDatabase;
  root: string;
  dataDir: string;
}

describe('first-start admin token', () => {
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

  /** Starts a hub on the site with no admin token from the harness (only from `env`, if any); returns what it printed and logged. */
  async function start(site: Site, env: Record<string, string> = {}) {
    const printed: string[] = [];
    const logged: string[] = [];
    const logs = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const hub = await startTestHub(
      { TELEHUB_LOG_LEVEL: 'trace', TELEHUB_LOG_FORMAT: 'json', ...env },
      {
        withoutAdminToken: true,
        printAdminToken: (text) => printed.push(text),
        database: site.database,
        dataDir: site.dataDir,
        logDestination: logs,
      },
    );
    hubs.push(hub);
    return { hub, printed, logged };
  }

  const withToken = (token: string) => ({ auth: false, headers: { Authorization: `Bearer ${token}` } });

  it('prints a tha_ token once, saves it to <dataDir>/admin-token with mode 0600, and it works', async () => {
    const site = await newSite();
    const { hub, printed, logged } = await start(site);

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

    await new Promise((resolve) => setImmediate(resolve));
    expect(logged.length).toBeGreaterThan(5);
    expect(logged.join('')).not.toContain(token);
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

  it('prints nothing and writes no file when TELEHUB_ADMIN_TOKEN is set', async () => {
    const site = await newSite();
    const adminToken = `tha_${'k'.repeat(43)}`;
    const { hub, printed, logged } = await start(site, { TELEHUB_ADMIN_TOKEN: adminToken });

    expect(printed).toEqual([]);
    await expect(stat(join(site.dataDir, 'admin-token'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await hub.api('GET', DEVICES, withToken(adminToken))).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged.join('')).not.toMatch(ANY_TOKEN);
  });
});
