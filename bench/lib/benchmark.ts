import { loadConfig } from '../../apps/hub/src/config/hub-config.js';
import type { BenchPostgres } from './bench-postgres.js';
import type { Table } from './table.js';

/**
 * The shape every benchmark has, so run.ts can run any selection of them (and later ones, such as commands
 * and the admin live path, slot in by adding a file and one line to its list).
 */
export interface Benchmark {
  /** The name on the command line and of the results file (bench/results/<name>.json). */
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchReport>;
}

export interface BenchContext {
  /** A few seconds per phase: a smoke check that everything starts and reports, not figures to quote. */
  readonly quick: boolean;
  readonly postgres: BenchPostgres;
  /** Figures one benchmark leaves for a later one in the same run. */
  readonly shared: SharedFigures;
  /** When set, hub processes write V8 CPU profiles (node --cpu-prof) here. */
  readonly cpuProfileDir: string | undefined;
  /** Extra Node.js options for every hub process of the run (--hub-node-options), for experiments. */
  readonly hubNodeOptions: string[];
  /**
   * Another checkout's root (--compare-hub=DIR, built with `npm run build`): the ingest bench measures that
   * build's hub beside this one's in the same rounds, for a same-run A/B of a change.
   */
  readonly compareHub: { root: string; main: string; revision: string } | undefined;
  log(message: string): void;
}

export interface SharedFigures {
  /** The hub's acknowledged MQTT QoS 1 messages per second at full load (ingest bench). */
  hubMqttMaxMessagesPerSec?: number;
}

/** A target from the issue: reported, never failed on. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined when it could not be measured in this run. */
  met: boolean | undefined;
}

export interface BenchReport {
  /** What the bench chose: sizes, durations, the hub settings it changed. */
  settings: Record<string, unknown>;
  /** The numbers, unformatted, for the results file. */
  figures: Record<string, unknown>;
  tables: Table[];
  targets: TargetCheck[];
  /** Things a reader should know about this run (a phase that failed, a generator that fell behind). */
  notes: string[];
}

/**
 * The hub's effective settings for a bench (its defaults plus what the bench changed), as the hub itself
 * would read them, so the report cannot claim a setting the hub did not have.
 */
export function effectiveHubSettings(env: Record<string, string>): Record<string, unknown> {
  const config = loadConfig({ DATABASE_URL: 'postgres://bench/bench', ...env });
  return {
    changedByBench: env,
    ingest: config.ingest,
    devices: {
      maxConnections: config.devices.maxConnections,
      ratePerSec: config.devices.ratePerSec,
      rateBurst: config.devices.rateBurst,
      lastSeenIntervalMs: config.devices.lastSeenIntervalMs,
    },
    databasePoolSize: config.database.poolSize,
    logLevel: config.log.level,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
