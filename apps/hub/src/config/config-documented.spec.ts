import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './config.schema.js';

const README = new URL('../../../../README.md', import.meta.url);

/** Every setting the hub reads is a row of the README's configuration table, so no limit goes undocumented. */
describe('configuration table', () => {
  it('has a row for every variable the hub reads', () => {
    const readme = readFileSync(README, 'utf8');
    // A row may name several variables: | `A`, `B` | …
    const firstCells = [...readme.matchAll(/^\| (`[A-Z][^|]*)\|/gm)].map((match) => match[1] as string);
    const documented = new Set(
      firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])),
    );
    const missing = Object.keys(ConfigSchema.shape).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });
});
