#!/usr/bin/env node
/**
 * Part of `npm run lint`: the drizzle schema (libs/db/src/schema) and the migrations (migrations/) must agree.
 * `drizzle-kit check` only looks at the migrations' own history (snapshots that collide); this runs
 * `drizzle-kit generate` against a copy of migrations/ and fails if it writes anything, that is if the schema
 * changed without `npm run db:generate`, or a snapshot (migrations/meta) was edited by hand. A hand edit of a
 * migration's SQL is not caught here (generate never reads it); the migration tests apply that SQL.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIGRATIONS = join(ROOT, 'migrations');
const SCHEMA = 'libs/db/src/schema/index.ts';
/** drizzle-kit asks about ambiguous renames on a terminal; here nothing answers, so it must not wait long. */
const TIMEOUT_MS = 60_000;

/** Every file under `dir`, by its path relative to `dir`, with its content. */
function files(dir) {
  const found = new Map();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(relative(dir, path), readFileSync(path, 'utf8'));
  }
  return found;
}

const scratch = mkdtempSync(join(tmpdir(), 'telehub-migrations-'));
try {
  const copy = join(scratch, 'migrations');
  cpSync(MIGRATIONS, copy, { recursive: true });
  // drizzle-kit puts `./` before --out, so the path must be relative.
  const generate = spawnSync(
    join(ROOT, 'node_modules/.bin/drizzle-kit'),
    ['generate', '--dialect', 'postgresql', '--schema', SCHEMA, '--out', relative(ROOT, copy)],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS },
  );
  const output = `${generate.stdout}${generate.stderr}`;
  const after = files(copy);
  const before = files(MIGRATIONS);
  const drift = [...after].filter(([path, text]) => before.get(path) !== text).map(([path]) => path);
  // It exits 0 on some errors (an unreadable snapshot): only its own "nothing to migrate" is a pass.
  if (drift.length === 0 && (generate.status !== 0 || !/No schema changes, nothing to migrate/.test(output))) {
    process.stderr.write(`${output}\n`);
    console.error(
      generate.error
        ? `drizzle-kit generate did not finish (${generate.error.message}): it may be asking whether a column or table was renamed; run npm run db:generate`
        : `drizzle-kit generate failed (exit ${generate.status}) or did not say "nothing to migrate"`,
    );
    process.exit(1);
  }
  if (drift.length > 0) {
    console.error(
      `The drizzle schema (${SCHEMA}) and migrations/ disagree: drizzle-kit generate writes ${drift.join(', ')}.`,
    );
    for (const path of drift.filter((name) => name.endsWith('.sql'))) console.error(`\n-- ${path}\n${after.get(path)}`);
    console.error('\nRun `npm run db:generate` and commit the migration (or undo the edit to migrations/).');
    process.exit(1);
  }
  console.log(`migrations match the schema (${before.size} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
