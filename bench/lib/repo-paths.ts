import { dirname, join } from 'node:path';
import { findUp } from '../../apps/hub/src/common/find-up.js';

/** The repository root: the bench runs from the build (dist/bench), results go to the source tree (bench/results). */
function repoRoot(): string {
  const packageJson = findUp(['package.json'], import.meta.dirname);
  if (!packageJson) throw new Error(`no package.json above ${import.meta.dirname}`);
  return dirname(packageJson);
}

export const REPO_ROOT = repoRoot();
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
/** The built hub, as `npm start` runs it. */
export const HUB_MAIN = join(REPO_ROOT, 'dist', 'apps', 'hub', 'src', 'main.js');
/** This build's bench directory (dist/bench): child-process entry points are forked from here. */
export const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench');
