import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The first of `candidates` (paths relative to a directory) that exists in this module's directory or
 * one above it. The hub runs from source (apps/hub/src), from the build (dist/apps/hub/src) and in the
 * Docker image, each at a different depth below the repository root.
 */
export function findUp(candidates: string[], start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = resolve(start);
  for (;;) {
    for (const candidate of candidates) {
      const path = join(dir, candidate);
      if (existsSync(path)) return path;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
