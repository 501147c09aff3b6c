import { createTestDatabase, type TestDatabase } from '@telehub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { expectProblem } from './support/api-assertions.js';
import { type HubProcess, startHubProcess } from './support/hub-process.js';
import { type ApiResponse, startTestHub, type TestHub } from './support/test-hub.js';

/** A Prometheus text answer: what a scraper parses. */
function expectMetrics(response: ApiResponse): void {
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(response.text).toMatch(/^# HELP telehub_connections /m);
  expect(response.text).toMatch(/^nodejs_eventloop_lag_seconds /m);
}

async function scrape(url: string, token?: string): Promise<ApiResponse> {
  const response = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

describe('/metrics, by default (TELEHUB_METRICS_AUTH=token)', () => {
  let hub: TestHub;
  const metricsToken = generateToken('admin').token.replace('tha_', 'prometheus_');
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_METRICS_TOKEN: metricsToken });
  });
  afterAll(() => hub?.close());

  it('refuses a scrape without a token: 401 Problem Details with WWW-Authenticate, no metrics', async () => {
    const response = await scrape(`${hub.baseUrl}/metrics`);
    const problem = expectProblem(response, 401, 'unauthorized');
    expect(problem.detail).toContain('TELEHUB_METRICS_TOKEN');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.text).not.toContain('telehub_');
  });

  it('refuses a wrong token, a device token and a token that only starts like the metrics token', async () => {
    const device = await hub.api('POST', '/api/v1/devices', { body: { name: 'scraper-test' } });
    for (const token of [
      generateToken('admin').token,
      device.body.token,
      `${metricsToken}x`,
      metricsToken.slice(0, -1),
    ])
      expectProblem(await scrape(`${hub.baseUrl}/metrics`, token), 401, 'unauthorized');
  });

  it('serves the metrics to the metrics token and to an admin token', async () => {
    expectMetrics(await scrape(`${hub.baseUrl}/metrics`, metricsToken));
    expectMetrics(await scrape(`${hub.baseUrl}/metrics`, hub.adminToken));
  });

  it('does not take the metrics token for the admin API', async () => {
    expectProblem(await scrape(`${hub.baseUrl}/api/v1/devices`, metricsToken), 401, 'unauthorized');
  });
});

describe('/metrics with TELEHUB_METRICS_AUTH=none', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_METRICS_AUTH: 'none' });
  });
  afterAll(() => hub?.close());

  it('serves anyone, and the admin API still needs its token', async () => {
    expectMetrics(await scrape(`${hub.baseUrl}/metrics`));
    expectProblem(await scrape(`${hub.baseUrl}/api/v1/devices`), 401, 'unauthorized');
  });
});

describe('/metrics on its own port (TELEHUB_METRICS_PORT), the built hub', () => {
  // One database each: each hub registers its own TELEHUB_ADMIN_TOKEN.
  let databases: TestDatabase[] = [];
  let open: HubProcess;
  let guarded: HubProcess;
  const metricsUrl = (hub: HubProcess) => {
    const line = hub.logs.find((entry) => entry.includes('"msg":"metrics on http://'));
    const port = line?.match(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/)?.[1];
    expect(port, hub.logs.join('\n')).toBeDefined();
    return `http://127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    databases = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const ownPort = { TELEHUB_METRICS_PORT: '0', TELEHUB_METRICS_HOST: '127.0.0.1' };
    [open, guarded] = await Promise.all([
      startHubProcess(databases[0]!.url, { ...ownPort, TELEHUB_METRICS_AUTH: 'none' }),
      startHubProcess(databases[1]!.url, ownPort),
    ]);
  });
  afterAll(async () => {
    for (const hub of [open, guarded]) {
      if (!hub) continue;
      hub.child.kill('SIGTERM');
      expect(await hub.exited).toBe(0);
    }
    for (const database of databases) await database.drop();
  });

  it('serves /metrics there (public with auth none), and no longer on the HTTP port', async () => {
    expectMetrics(await scrape(`${metricsUrl(open)}/metrics`));
    expectMetrics(await scrape(`${metricsUrl(open)}/metrics?name[]=x`));
    const moved = await scrape(`http://127.0.0.1:${open.httpPort}/metrics`, open.adminToken);
    expectProblem(moved, 404, 'route_not_found');
  });

  it('answers nothing else there: 404 for another path, 405 for another method', async () => {
    const base = metricsUrl(open);
    const other = await scrape(`${base}/api/v1/devices`, open.adminToken);
    expect(expectProblem(other, 404, 'route_not_found').detail).toContain('/metrics only');
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
  });

  it('still requires a token there by default, and takes an admin token', async () => {
    const base = metricsUrl(guarded);
    const refused = await scrape(`${base}/metrics`);
    expectProblem(refused, 401, 'unauthorized');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expectProblem(await scrape(`${base}/metrics`, generateToken('admin').token), 401, 'unauthorized');
    expectMetrics(await scrape(`${base}/metrics`, guarded.adminToken));
  });
});
