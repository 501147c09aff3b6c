import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The dashboard build: `vite build --config apps/admin/vite.config.ts` writes apps/admin/dist, which the hub
 * serves at `/`. `vite --config apps/admin/vite.config.ts` serves it with hot reload and forwards the API and
 * the admin WebSocket to a hub on TELEHUB_DEV_HUB (default http://localhost:8080).
 */
export default defineConfig({
  root: here('.'),
  base: './',
  // The only static file (the icon) is inlined in index.html; public/ holds the hub's "not built" page.
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: {
    alias: { '@telehub/contracts': here('../../libs/contracts/src/index.ts') },
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': process.env.TELEHUB_DEV_HUB ?? 'http://localhost:8080',
      '/v1/admin/ws': { target: process.env.TELEHUB_DEV_HUB ?? 'http://localhost:8080', ws: true },
    },
  },
});
