import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchReport } from './benchmark.js';
import type { MachineInfo } from './machine-info.js';
import { RESULTS_DIR } from './repo-paths.js';

export interface ResultsFile extends BenchReport {
  name: string;
  title: string;
  startedAt: string;
  durationSeconds: number;
  quick: boolean;
  machine: MachineInfo;
  postgresSettings: Record<string, string>;
}

/**
 * bench/results/<name>.json. Runs whose figures are not the plain ones go beside it, so they never replace
 * them: <name>.quick.json, <name>.profile.json (CPU profiling slows the hub), <name>.experiment.json (--hub-node-options).
 */
export async function writeResults(
  results: ResultsFile,
  variant?: 'quick' | 'profile' | 'experiment',
): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${results.name}${variant ? `.${variant}` : ''}.json`);
  await writeFile(file, `${JSON.stringify(results, jsonNumbers, 2)}\n`);
  return file;
}

/** NaN and Infinity are not JSON: write them as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}
