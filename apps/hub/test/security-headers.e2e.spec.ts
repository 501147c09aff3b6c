import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdminIfNeeded } from '../../../scripts/build-admin-if-needed.mjs';
import { findAdminAssets } from '../src/admin-assets.js';
import { selfSignedCertificate } from './support/certificates.js';
import { type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** What Chromium sends. */
const BROWSER_ENCODINGS = 'gzip, deflate, br, zstd';

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes as they came over the wire (not decompressed). */
  body: Buffer;
}

/** One request over node:http(s), which, unlike fetch, shows the body as sent: compressed or not. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise<RawResponse>((resolve, reject) => {
    const request = send(url, { method: options.method ?? 'GET', headers: options.headers, rejectUnauthorized: false });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/** The Content-Security-Policy header as directive → sources. */
function csp(headers: IncomingHttpHeaders): Record<string, string[]> {
  const value = headers['content-security-policy'];
  expect(value, 'Content-Security-Policy').toEqual(expect.any(String));
  return Object.fromEntries(
    (value as string)
      .split(';')
      .map((directive) => directive.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  );
}

/** The dashboard's policy: nothing but the hub's own scripts, styles and connections. */
const DASHBOARD_POLICY = {
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

function expectPageHeaders(response: RawResponse, policy: Record<string, string[]> = DASHBOARD_POLICY) {
  expect(csp(response.headers)).toEqual(policy);
  expect(response.headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });
  // Plain HTTP: HSTS would be ignored by browsers, and would be wrong for a hub that has no certificate.
  expect(response.headers['strict-transport-security']).toBeUndefined();
  expect(response.headers['x-powered-by']).toBeUndefined();
}

describe('security headers, compression and caching on the HTTP port', () => {
  let hub: TestHub;
  let device: ProvisionedDevice;
  let assets: string;
  /** The dashboard's hashed files, as index.html names them. */
  let script: string;
  let stylesheet: string;

  beforeAll(async () => {
    await buildAdminIfNeeded();
    assets = findAdminAssets()!;
    hub = await startTestHub();
    device = await provisionDevice(hub, 'headers');
    const index = (await raw(`${hub.baseUrl}/`)).body.toString('utf8');
    script = index.match(/src="\.\/(assets\/index-[\w-]+\.js)"/)![1]!;
    stylesheet = index.match(/href="\.\/(assets\/index-[\w-]+\.css)"/)![1]!;
  });
  afterAll(() => hub?.close());

  it('serves the dashboard page with the strict policy, revalidated on every load', async () => {
    for (const path of ['/', '/index.html']) {
      const response = await raw(`${hub.baseUrl}${path}`, { headers: { 'Accept-Encoding': BROWSER_ENCODINGS } });
      expect(response.status, path).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html\b/);
      expectPageHeaders(response);
      expect(response.headers['cache-control'], path).toBe('no-cache');
      // Under the compression threshold (1 kB): sent as it is.
      expect(response.headers['content-encoding']).toBeUndefined();
      // A reload asks with the ETag and gets a 304: no-cache costs a round trip, not the page.
      const again = await raw(`${hub.baseUrl}${path}`, { headers: { 'If-None-Match': response.headers.etag! } });
      expect(again.status, path).toBe(304);
    }
  });

  it('serves hashed files for a year, immutable, compressed as the browser accepts', async () => {
    for (const file of [script, stylesheet]) {
      const onDisk = await readFile(join(assets, file));
      const url = `${hub.baseUrl}/${file}`;
      const brotli = await raw(url, { headers: { 'Accept-Encoding': BROWSER_ENCODINGS } });
      expect(brotli.status, file).toBe(200);
      expect(brotli.headers['cache-control'], file).toBe('public, max-age=31536000, immutable');
      expect(brotli.headers['content-encoding'], file).toBe('br');
      expect(brotli.headers.vary, file).toMatch(/Accept-Encoding/i);
      expect(brotliDecompressSync(brotli.body).equals(onDisk), file).toBe(true);
      expect(brotli.body.length, file).toBeLessThan(onDisk.length * 0.4);
      expect(brotli.headers['x-content-type-options']).toBe('nosniff');

      const gzip = await raw(url, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(gzip.headers['content-encoding'], file).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(onDisk), file).toBe(true);

      const plain = await raw(url);
      expect(plain.headers['content-encoding'], file).toBeUndefined();
      expect(plain.body.equals(onDisk), file).toBe(true);
      console.info(`${file}: ${onDisk.length} bytes; sent as brotli ${brotli.body.length}, gzip ${gzip.body.length}`);
    }
  });

  it('answers the API with the strict policy and without compression, errors included', async () => {
    const summary = await raw(`${hub.baseUrl}/api/v1/fleet/summary`, {
      headers: { Authorization: `Bearer ${hub.adminToken}`, 'Accept-Encoding': BROWSER_ENCODINGS },
    });
    expect(summary.status).toBe(200);
    expectPageHeaders(summary);
    expect(summary.headers['content-encoding']).toBeUndefined();

    const refused = await raw(`${hub.baseUrl}/api/v1/devices`);
    expect(refused.status).toBe(401);
    expectPageHeaders(refused);
    const notFound = await raw(`${hub.baseUrl}/no/such/page`);
    expect(notFound.status).toBe(404);
    expectPageHeaders(notFound);
    const openapi = await raw(`${hub.baseUrl}/api/openapi.json`, { headers: { 'Accept-Encoding': BROWSER_ENCODINGS } });
    expect(openapi.status).toBe(200);
    expectPageHeaders(openapi);
    expect(openapi.headers['content-encoding']).toBeUndefined();
  });

  it('lets the API docs page, and only it, use inline styles; scripts stay its own files', async () => {
    const docsPolicy = { ...DASHBOARD_POLICY, 'style-src': ["'self'", "'unsafe-inline'"] };
    for (const path of ['/api/docs', '/api/docs/', '/api/docs/swagger-ui-init.js', '/api/docs/swagger-ui.css']) {
      const response = await raw(`${hub.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expectPageHeaders(response, docsPolicy);
    }
    const page = (await raw(`${hub.baseUrl}/api/docs`)).body.toString('utf8');
    // Every script of the page is a file (script-src 'self' is enough); its styles are partly inline.
    expect(page.match(/<script\b[^>]*>/g)?.every((tag) => /\bsrc="/.test(tag))).toBe(true);
    expect(page).toMatch(/<style>/);
    // A path that only starts like the docs gets the strict policy.
    expectPageHeaders(await raw(`${hub.baseUrl}/api/docsx`));
  });

  it('answers devices over HTTP with nosniff only, uncompressed, as before', async () => {
    const response = await raw(`${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${device.token}`,
        'Content-Type': 'application/json',
        'Accept-Encoding': BROWSER_ENCODINGS,
      },
      body: JSON.stringify({ temp: 21.5 }),
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ rows: 1 });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    for (const absent of ['content-security-policy', 'content-encoding', 'referrer-policy', 'x-frame-options'])
      expect(response.headers[absent], absent).toBeUndefined();
  });
});

describe('security headers with TLS', () => {
  let hub: TestHub;
  beforeAll(async () => {
    const { cert, key } = selfSignedCertificate();
    hub = await startTestHub(
      { TELEHUB_TLS_CERT_FILE: cert, TELEHUB_TLS_KEY_FILE: key, TELEHUB_MQTT_TLS_PORT: '0' },
      { https: true },
    );
  });
  afterAll(() => hub?.close());

  it('tells browsers to keep to HTTPS for this host for a year', async () => {
    const response = await raw(`${hub.baseUrl}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(csp(response.headers)).toEqual(DASHBOARD_POLICY);
  });
});
