import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../src/auth/token-codec.js';
import { ANY_TOKEN, DEVICES } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

describe('tokens never reach the logs', () => {
  let hub: TestHub;
  const logged: string[] = [];
  /** The log so far, once the request with this X-Request-Id has been logged (pino-http logs after the answer). */
  async function logAfter(requestId: string): Promise<string> {
    const marker = `"id":"${requestId}"`;
    for (let waited = 0; !logged.join('').includes(marker) && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return logged.join('');
  }

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    // The hub's own logger (with its redaction settings) at the most verbose level, as JSON lines.
    hub = await startTestHub({ TELEHUB_LOG_LEVEL: 'trace', TELEHUB_LOG_FORMAT: 'json' }, { logDestination: sink });
  });
  afterAll(() => hub?.close());

  it('logs requests at trace level without the admin token or any device token', async () => {
    const secrets = [hub.adminToken!];
    const created = await hub.api('POST', DEVICES, { body: { name: 'logged-1', labels: ['log'] } });
    secrets.push(created.body.token);
    const bulk = await hub.api('POST', `${DEVICES}/bulk`, { body: [{ name: 'logged-2' }, { name: 'logged-3' }] });
    secrets.push(...bulk.body.map((device: { token: string }) => device.token));
    const csv = await hub.api('POST', `${DEVICES}/bulk`, {
      rawBody: 'name\nlogged-4\n',
      headers: { 'Content-Type': 'text/csv', Accept: 'text/csv' },
    });
    secrets.push(csv.text.match(ANY_TOKEN)![0]);
    const issued = await hub.api('POST', `${DEVICES}/${created.body.id}/tokens`, {
      body: { expireOthersInSeconds: 60 },
    });
    secrets.push(issued.body.token);
    expect([created.status, bulk.status, csv.status, issued.status]).toEqual([201, 201, 201, 201]);

    // Secrets where a careless client might put them: the query string, a device token as admin token,
    // an unknown admin token, and a body field named like a secret.
    const stranger = generateToken('admin').token;
    secrets.push(stranger);
    await hub.api('GET', `${DEVICES}?namePrefix=${created.body.token}`);
    await hub.api('GET', `${DEVICES}?token=${hub.adminToken}`);
    await hub.api('GET', DEVICES, { headers: { Authorization: `Bearer ${created.body.token}` } });
    await hub.api('GET', DEVICES, { headers: { Authorization: `Bearer ${stranger}` } });
    await hub.api('POST', DEVICES, { body: { name: 'x', token: issued.body.token, password: stranger } });
    await hub.api('GET', `${DEVICES}/${created.body.id}/tokens`);
    await hub.api('DELETE', `${DEVICES}/${created.body.id}/tokens/${issued.body.id}`, {
      headers: { 'X-Request-Id': 'last-request' },
    });

    const text = await logAfter('last-request');
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const requestLines = lines.filter((line) => line.req?.url?.startsWith(DEVICES));
    expect(requestLines.length).toBeGreaterThanOrEqual(11);
    expect(requestLines.some((line) => line.res?.statusCode === 401)).toBe(true);
    expect(lines.some((line) => line.level <= 20)).toBe(true);

    expect(new Set(secrets).size).toBe(7);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4));
    }
    expect(text).not.toMatch(ANY_TOKEN);
  });

  it('keeps query strings, which may carry tokens, out of logged URLs', async () => {
    await hub.api('GET', `${DEVICES}?namePrefix=marker-in-query`, { headers: { 'X-Request-Id': 'query-check' } });
    const line = (await logAfter('query-check'))
      .trim()
      .split('\n')
      .map((raw) => JSON.parse(raw))
      .find((entry) => entry.req?.id === 'query-check');
    expect(line?.req.url).toBe(DEVICES);
    expect(JSON.stringify(line)).not.toContain('marker-in-query');
  });
});
