import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The MQTT library needs no database: this config skips the root globalSetup (embedded Postgres) so its suite
// runs in seconds. Run with `npx vitest run --config libs/mqtt/vitest.config.ts`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  cacheDir: fileURLToPath(new URL('../../node_modules/.vite/libs-mqtt', import.meta.url)),
  test: {
    include: ['src/**/*.spec.ts'],
    testTimeout: 10_000,
  },
});
