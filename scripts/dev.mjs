#!/usr/bin/env node
/**
 * `npm run dev`: the hub, rebuilt and restarted when its sources change, and the dashboard on Vite's dev server
 * (hot reload) with /api and the admin WebSocket proxied to the hub (apps/admin/vite.config.ts).
 *
 * A change under the watched folders is compiled with the project's build (SWC, about 2 s) and then the hub
 * restarts: SIGTERM, its graceful shutdown, and a new process on the new build. A build that fails leaves the
 * running hub alone. One script instead of `swc --watch` plus `node --watch`: those two race (node restarts on the
 * first of the files swc writes one by one) and swc's watch mode needs chokidar, a dependency for this alone.
 *
 * Environment: the hub's own settings (TELEHUB_HTTP_PORT, DATABASE_URL, …); TELEHUB_DEV_VITE_PORT (default 5173).
 */
import { spawn, spawnSync } from 'node:child_process';
import { watch } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What the hub is built from: its sources, the libs it imports, and the migrations it applies at start. */
const WATCHED = ['apps/hub/src', 'libs/contracts/src', 'libs/db/src', 'libs/mqtt/src', 'migrations'];
/** Changes arriving within this time (an editor saving several files, a git checkout) make one rebuild. */
const SETTLE_MS = 200;
/** A hub that has not finished its graceful shutdown by then is killed (its own limit is 30 s by default). */
const STOP_TIMEOUT_MS = 35_000;
const HUB_ARGS = ['--enable-source-maps', '--max-semi-space-size=64', 'dist/apps/hub/src/main.js'];

const say = (message) => process.stdout.write(`\x1b[36m[dev]\x1b[0m ${message}\n`);

function build() {
  const started = performance.now();
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status === 0) say(`built in ${Math.round(performance.now() - started)} ms`);
  return result.status === 0;
}

let hub;
let hubExited = Promise.resolve();
/** Hubs this script stopped: their exit is no news. */
const stoppedOnPurpose = new WeakSet();

function startHub() {
  const child = spawn(process.execPath, HUB_ARGS, { cwd: ROOT, stdio: 'inherit' });
  hub = child;
  hubExited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stoppedOnPurpose.has(child)) say(`the hub exited (${signal ?? code}); it starts again on the next change`);
      resolve();
    }),
  );
}

async function stopHub() {
  const child = hub;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  stoppedOnPurpose.add(child);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await hubExited;
  clearTimeout(killer);
}

let stopping = false;
let rebuilding = false;
let changedAgain = false;
let settleTimer;
const changed = new Set();

async function rebuildAndRestart() {
  if (rebuilding) {
    changedAgain = true;
    return;
  }
  rebuilding = true;
  do {
    changedAgain = false;
    const files = [...changed];
    changed.clear();
    say(`changed: ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`);
    if (!build()) {
      say('the build failed: the hub goes on with the previous build until the next change');
      continue;
    }
    say('restarting the hub');
    await stopHub();
    if (!stopping) startHub();
  } while (changedAgain && !stopping);
  rebuilding = false;
}

function onChange(folder, file) {
  if (!file || file.endsWith('.spec.ts') || file.includes('/test/')) return;
  changed.add(relative(ROOT, join(ROOT, folder, file)));
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => void rebuildAndRestart(), SETTLE_MS);
}

if (!build()) process.exit(1);
startHub();
const watchers = WATCHED.map((folder) =>
  watch(join(ROOT, folder), { recursive: true }, (_event, file) => onChange(folder, file)),
);

const hubUrl = `http://localhost:${process.env.TELEHUB_HTTP_PORT || 8080}`;
const vitePort = process.env.TELEHUB_DEV_VITE_PORT || '5173';
const vite = spawn(
  join(ROOT, 'node_modules/.bin/vite'),
  ['--config', 'apps/admin/vite.config.ts', '--port', vitePort, '--strictPort'],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TELEHUB_DEV_HUB: process.env.TELEHUB_DEV_HUB ?? hubUrl } },
);
say(`dashboard with hot reload: http://localhost:${vitePort}/ (API and admin WebSocket proxied to ${hubUrl})`);

// Ctrl-C reaches the whole process group: the hub shuts down by itself; wait for it, then stop the rest.
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  clearTimeout(settleTimer);
  for (const watcher of watchers) watcher.close();
  say(`${signal}: stopping`);
  await stopHub();
  vite.kill('SIGTERM');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
vite.once('exit', (code) => {
  if (!stopping) say(`Vite exited (${code}); the hub keeps running`);
});
