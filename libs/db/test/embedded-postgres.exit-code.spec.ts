import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BUILT = resolve(import.meta.dirname, '../../../dist/libs/db/src/embedded-postgres.server.js');

/** Runs `body` in a fresh Node process (the built module, as `npm start` and the test setup load it). */
function run(body: string): number | null {
  const script = `const m = await import(${JSON.stringify(BUILT)}); ${body}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }).status;
}

describe('loading embedded-postgres', () => {
  it('keeps the exit code a process sets (a failed test run must not exit 0)', () => {
    expect(run('await m.importEmbeddedPostgres(); process.exitCode = 3;')).toBe(3);
  });

  it('leaves SIGTERM to the process: its own handler runs and decides the exit', () => {
    const code = run(
      'await m.importEmbeddedPostgres(); process.on("SIGTERM", () => process.exit(7)); process.kill(process.pid, "SIGTERM"); setTimeout(() => {}, 5000);',
    );
    expect(code).toBe(7);
  });
});
