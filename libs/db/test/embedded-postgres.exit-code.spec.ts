import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BUILT = resolve(import.meta.dirname, '../../../dist/libs/db/src/embedded-postgres.server.js');

/** Runs `body` in a fresh Node process (the built module, as `npm start` and the test setup load it). */
function run(body: string): { status: number | null; stderr: string } {
  const script = `const m = await import(${JSON.stringify(BUILT)}); ${body}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  return { status: child.status, stderr: child.stderr.toString() };
}

describe('loading embedded-postgres', () => {
  it('keeps the exit code a process sets (a failed test run must not exit 0)', () => {
    expect(run('await m.importEmbeddedPostgres(); process.exitCode = 3;')).toEqual({ status: 3, stderr: '' });
    // Its exit hook threw "done is not a function" when the process exited by process.exit().
    expect(run('await m.importEmbeddedPostgres(); process.exit(4);')).toEqual({ status: 4, stderr: '' });
  });

  it('leaves SIGTERM to the process: its own handler runs and decides the exit', () => {
    const code = run(
      'await m.importEmbeddedPostgres(); process.on("SIGTERM", () => process.exit(7)); process.kill(process.pid, "SIGTERM"); setTimeout(() => {}, 5000);',
    );
    expect(code).toEqual({ status: 7, stderr: '' });
  });
});
