import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import { DEVICE_HTTP_PREFIX } from '../transports/http/device-http.body.js';

export interface SecurityHeadersOptions {
  /** The HTTP port serves HTTPS: browsers are told to keep using it (Strict-Transport-Security). */
  tls: boolean;
}

/** Where @nestjs/swagger serves the API docs UI and its files (setup-openapi.ts). */
export const API_DOCS_PATH = '/api/docs';

/**
 * The dashboard's policy: its own scripts, styles and connections only. Vite emits no inline script or style;
 * Preact and uPlot set styles through the CSSOM, which CSP does not govern; no eval (the dashboard turns zod's
 * compiled parsers off: apps/admin/src/zod-jitless.ts). `connect-src 'self'` also allows
 * the admin WebSocket: CSP Level 3 matches ws: and wss: to the page's own host and port
 * (https://www.w3.org/TR/CSP3/#match-url-to-source-expression). The icon is a data: URL in index.html.
 * No `upgrade-insecure-requests`: a hub on plain HTTP (a LAN, localhost) would have its own files rewritten
 * to https: URLs that nothing answers.
 */
const DASHBOARD_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * Swagger UI's page has `<style>` blocks and a `style` attribute, and its bundle inserts more (tried in Chromium:
 * four violations without this); its scripts are files. So the docs, and only they, may use inline styles.
 */
const API_DOCS_DIRECTIVES = { ...DASHBOARD_DIRECTIVES, 'style-src': ["'self'", "'unsafe-inline'"] };

/**
 * Security headers on every HTTP answer, from helmet: the Content-Security-Policy above, `nosniff`,
 * `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` for browsers older than `frame-ancestors`, the
 * cross-origin isolation headers, and HSTS when the port speaks TLS. Device ingest answers get only `nosniff`:
 * no browser renders them, and a device on a metered link pays for every header byte.
 */
export function securityHeaders(options: SecurityHeadersOptions) {
  const common = {
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // One year, this host only: a hub's certificate says nothing about its parent domain's other hosts.
    strictTransportSecurity: options.tls ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  } as const;
  const pages = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_DIRECTIVES } });
  const docs = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: API_DOCS_DIRECTIVES } });
  const device = helmet({
    contentSecurityPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    strictTransportSecurity: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  return (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => {
    // Express routes case-insensitively, so these prefixes are compared the same way.
    const path = request.url?.toLowerCase() ?? '/';
    if (path.startsWith(DEVICE_HTTP_PREFIX)) return device(request, response, next);
    if (path === API_DOCS_PATH || path.startsWith(`${API_DOCS_PATH}/`) || path.startsWith(`${API_DOCS_PATH}?`))
      return docs(request, response, next);
    return pages(request, response, next);
  };
}
