import { defineConfig } from 'vitest/config';
import full from './vitest.config.js';

/**
 * `npm run test:unit`: the unit specs beside the code (`src/**`), in seconds. No globalSetup, so no PostgreSQL
 * is started, and no build: nothing here may need a database, the built hub or a browser. Specs that do live
 * under `test/` of their app or lib (`*.e2e`, `*.postgres`, `*.timescale`, `*.browser`) and run with `npm test`,
 * which runs everything (vitest.config.ts).
 */
export default defineConfig({
  ...full,
  test: {
    ...full.test,
    include: ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts'],
    exclude: [...(full.test?.exclude ?? []), '**/*.{e2e,postgres,timescale,browser}.spec.ts'],
    globalSetup: [],
  },
});
