import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds `migrations/` by walking up from this module: it sits at the repository root both when running
 * from source (libs/db/src) and from the build (dist/libs/db/src), and in the Docker image.
 */
export function findMigrationsFolder(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no migrations/meta/_journal.json found above ${start}`);
    dir = parent;
  }
}
