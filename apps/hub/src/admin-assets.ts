import { dirname, sep } from 'node:path';
import { constants } from 'node:zlib';
import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import type { NextFunction, Request, Response } from 'express';
import { findUp } from './common/find-up.js';

/** The dashboard's files: the Vite build when present, else the placeholder page in apps/admin. */
export function findAdminAssets(): string | undefined {
  const index = findUp(['apps/admin/dist/index.html', 'apps/admin/public/index.html']);
  return index ? dirname(index) : undefined;
}

/** Where Vite puts the files whose names carry a hash of their content (`assets/index-[hash].js`). */
const HASHED_DIR = 'assets';

/**
 * Serves the dashboard at `/`. Hashed files never change under their name: a browser keeps them for a year
 * without asking again (RFC 8246 `immutable`). index.html names the current ones, so the browser revalidates
 * it on every load (`no-cache`; the ETag makes that a 304) and picks up a new build at once.
 *
 * Compressed on the fly (brotli or gzip, as the browser accepts): the script goes from 238 kB to 76 kB
 * (brotli quality 5, about 7 ms of a zlib thread per request; quality 4, the library's default, gives 81 kB,
 * gzip 80 kB). A browser fetches each hashed file once per release, so caching pays for it. Only these files:
 * API and device answers pass this by without a look, so the streamed CSV export stays a stream.
 */
export function serveAdminAssets(app: NestExpressApplication, directory: string): void {
  const compress = compression({ brotli: { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } } });
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (isDashboardPath(request.url)) compress(request, response, next);
    else next();
  });
  const hashedPrefix = `${directory}${sep}${HASHED_DIR}${sep}`;
  app.useStaticAssets(directory, {
    index: 'index.html',
    fallthrough: true,
    setHeaders: (response, path) => {
      response.setHeader(
        'Cache-Control',
        path.startsWith(hashedPrefix) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}

/** The dashboard's own URLs: the page and its hashed files (everything else is the API, devices or health). */
function isDashboardPath(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return path === '/' || path === '/index.html' || path.startsWith(`/${HASHED_DIR}/`);
}
