/**
 * `npm run bench -- [names…] [--quick] [--profile]`: runs the selected benchmarks (all by default) against
 * one embedded PostgreSQL started here, prints their tables, and writes bench/results/<name>.json.
 * See bench/README.md for how to read the figures.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { adminLiveBench } from './admin-live.bench.js';
import { commandsBench } from './commands.bench.js';
import { connectionsBench } from './connections.bench.js';
import { deviceListBench } from './device-list.bench.js';
import { httpRateBench } from './http-rate.bench.js';
import { ingestBench } from './ingest.bench.js';
import { latencyBench } from './latency.bench.js';
import { type BenchPostgres, startBenchPostgres } from './lib/bench-postgres.js';
import { type BenchContext, type Benchmark, type SharedFigures } from './lib/benchmark.js';
import { killAllChildren } from './lib/child-worker.js';
import { summarizeCpuProfiles } from './lib/cpu-profile.js';
import { machineInfo } from './lib/machine-info.js';
import { RESULTS_DIR } from './lib/repo-paths.js';
import { writeResults } from './lib/results-writer.js';
import { renderTable } from './lib/table.js';
import { scaleOutBench } from './scale-out.bench.js';

/** How long an interrupted run waits for PostgreSQL to stop before it exits anyway. */
const INTERRUPT_GRACE_MS = 10_000;

/** In run order: the latency, commands and admin-live benches pace at half the rate the ingest bench measured. */
const BENCHMARKS: Benchmark[] = [
  ingestBench,
  latencyBench,
  commandsBench,
  adminLiveBench,
  connectionsBench,
  deviceListBench,
  httpRateBench,
  scaleOutBench,
];

const USAGE = `usage: npm run bench -- [${BENCHMARKS.map((bench) => bench.name).join('|')} …] [--quick] [--profile] [--hub-node-options="…"]
  --quick             a few seconds per phase: checks that everything runs; figures are not meaningful
  --profile           hub processes write V8 CPU profiles (node --cpu-prof) to bench/results/profiles/
  --hub-node-options  extra Node.js options for the hub processes, e.g. "--max-semi-space-size=32"
  --compare-hub=DIR   ingest: also measure the hub built in another checkout (npm run build there), same rounds`;

interface Options {
  selected: Benchmark[];
  quick: boolean;
  profile: boolean;
  hubNodeOptions: string[];
  compareHub: BenchContext['compareHub'];
}

const HUB_NODE_OPTIONS = '--hub-node-options=';
const COMPARE_HUB = '--compare-hub=';

function parseArgs(args: string[]): Options {
  const names = args.filter((arg) => !arg.startsWith('-'));
  const flags = args.filter((arg) => arg.startsWith('-'));
  const hubNodeOptions: string[] = [];
  let compareHub: BenchContext['compareHub'];
  for (const flag of flags) {
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag.startsWith(HUB_NODE_OPTIONS))
      hubNodeOptions.push(...flag.slice(HUB_NODE_OPTIONS.length).split(/\s+/).filter(Boolean));
    else if (flag.startsWith(COMPARE_HUB)) compareHub = otherBuild(flag.slice(COMPARE_HUB.length));
    else if (flag !== '--quick' && flag !== '--profile') fail(`unknown option ${flag}`);
  }
  for (const name of names) {
    if (!BENCHMARKS.some((bench) => bench.name === name)) fail(`unknown benchmark "${name}"`);
  }
  return {
    selected: names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => names.includes(bench.name)),
    quick: flags.includes('--quick'),
    profile: flags.includes('--profile'),
    hubNodeOptions,
    compareHub,
  };
}

/** The other checkout's built hub, and its revision (git) for the report. */
function otherBuild(directory: string): NonNullable<BenchContext['compareHub']> {
  const root = resolve(directory);
  const main = join(root, 'dist', 'apps', 'hub', 'src', 'main.js');
  if (!existsSync(main)) fail(`--compare-hub: ${main} does not exist (run npm run build in ${root})`);
  let revision = 'unknown';
  try {
    revision = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the directory names it
  }
  return { root, main, revision };
}

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const runStarted = performance.now();
  const log = (message: string) =>
    console.log(`[${((performance.now() - runStarted) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  log('starting the embedded PostgreSQL');
  const postgres: BenchPostgres = await startBenchPostgres();
  runningPostgres = postgres;
  const machine = machineInfo(postgres.version);
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${(machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB, ` +
      `Node ${machine.node}, PostgreSQL ${machine.postgres}, open files ${machine.openFilesLimit}/process, ` +
      `load average ${machine.loadAverageAtStart.toFixed(2)}`,
  );
  const shared: SharedFigures = {};
  let failures = 0;
  try {
    for (const bench of options.selected) {
      if (interrupted) break;
      const context: BenchContext = {
        quick: options.quick,
        postgres,
        shared,
        cpuProfileDir: options.profile ? join(RESULTS_DIR, 'profiles', bench.name) : undefined,
        hubNodeOptions: options.hubNodeOptions,
        compareHub: options.compareHub,
        log: (message) => log(`${bench.name}: ${message}`),
      };
      // Profiles of an earlier run would be summarized with this one's.
      if (context.cpuProfileDir) await rm(context.cpuProfileDir, { recursive: true, force: true });
      const startedAt = new Date();
      const benchStarted = performance.now();
      log(`${bench.name}: ${bench.title}`);
      try {
        const report = await bench.run(context);
        // The hubs have stopped, so their profiles are written: show where their CPU went.
        if (context.cpuProfileDir) report.tables.push(...(await summarizeCpuProfiles(context.cpuProfileDir)));
        console.log('');
        for (const table of report.tables) console.log(renderTable(table));
        if (report.targets.length > 0) {
          console.log(
            renderTable({
              title: `${bench.title}: targets (reported, not enforced)`,
              columns: ['Target', 'Measured', 'Met'],
              rows: report.targets.map((check) => [
                check.target,
                check.measured,
                check.met === undefined ? 'n/a' : check.met ? 'yes' : 'NO',
              ]),
            }),
          );
        }
        for (const note of report.notes) console.log(`note: ${note}`);
        if (options.hubNodeOptions.length > 0) report.settings.hubNodeOptions = options.hubNodeOptions;
        if (options.compareHub) report.settings.compareHub = options.compareHub;
        const variant = options.quick
          ? 'quick'
          : options.profile
            ? 'profile'
            : options.hubNodeOptions.length > 0
              ? 'experiment'
              : undefined;
        const file = await writeResults(
          {
            name: bench.name,
            title: bench.title,
            startedAt: startedAt.toISOString(),
            durationSeconds: (performance.now() - benchStarted) / 1000,
            quick: options.quick,
            machine,
            postgresSettings: postgres.settings,
            ...report,
          },
          variant,
        );
        log(`${bench.name}: results written to ${file}\n`);
      } catch (error) {
        if (interrupted) break;
        failures += 1;
        console.error(`bench ${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      }
    }
  } finally {
    runningPostgres = undefined;
    await postgres.stop();
  }
  log(`done in ${((performance.now() - runStarted) / 1000).toFixed(0)} s`);
  process.exit(failures > 0 ? 1 : 0);
}

/** Set while the run holds its PostgreSQL, so an interrupted run can still stop it and remove its files. */
let runningPostgres: BenchPostgres | undefined;
let interrupted = false;

process.once('SIGINT', () => {
  console.error('bench: interrupted; stopping its processes and PostgreSQL');
  interrupted = true;
  killAllChildren();
  const stopped = runningPostgres?.stop() ?? Promise.resolve();
  const grace = new Promise((resolve) => setTimeout(resolve, INTERRUPT_GRACE_MS));
  void Promise.race([stopped.catch(() => undefined), grace]).finally(() => process.exit(130));
});

void main();
