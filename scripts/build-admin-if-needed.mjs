#!/usr/bin/env node
/**
 * Builds the dashboard (apps/admin → apps/admin/dist) when the build is missing or older than its sources,
 * so `npm start` and the browser tests serve the current dashboard without rebuilding it every time.
 *
 *   node scripts/build-admin-if-needed.mjs           build when needed
 *   node scripts/build-admin-if-needed.mjs --force   build anyway
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT_INDEX = join(ROOT, 'apps/admin/dist/index.html');
/** What the build reads: a change to any of these makes the build stale. */
const SOURCES = [
  'apps/admin/index.html',
  'apps/admin/vite.config.ts',
  'apps/admin/tsconfig.json',
  'apps/admin/src',
  'libs/contracts/src',
  'package-lock.json',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the dashboard must be built, or undefined when apps/admin/dist is current. */
export function staleReason() {
  if (!existsSync(BUILT_INDEX)) return 'apps/admin/dist is missing';
  const built = statSync(BUILT_INDEX).mtimeMs;
  const changed = SOURCES.find((source) => newestMtime(join(ROOT, source)) > built);
  return changed ? `${changed} changed since the last build` : undefined;
}

/** Builds when stale (or `force`); resolves with whether it built. */
export async function buildAdminIfNeeded({ force = false, log = () => undefined } = {}) {
  const reason = force ? 'forced' : staleReason();
  if (!reason) return false;
  log(`building the dashboard (${reason})…`);
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'apps/admin/vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const built = await buildAdminIfNeeded({
      force: process.argv.includes('--force'),
      log: (message) => console.log(`telehub: ${message}`),
    });
    if (!built) console.log('telehub: the dashboard build is current');
  } catch (error) {
    console.error('telehub: building the dashboard failed:', error);
    process.exit(1);
  }
}
