import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, DEVICES, expectProblem } from './support/api-assertions.js';
import { type ApiResponse, startTestHub, type TestHub } from './support/test-hub.js';

/** A JSON POST to the admin API with these exact body bytes (fetch sends them as they are, encoded or not). */
async function post(hub: TestHub, path: string, body: Buffer, headers: Record<string, string>): Promise<ApiResponse> {
  const response = await fetch(`${hub.baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${hub.adminToken}`, 'Content-Type': 'application/json', ...headers },
    body: new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, text };
}

describe('admin API: Content-Encoding of request bodies', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('answers 415 unsupported_encoding for an encoding it does not know, naming it, and creates nothing', async () => {
    const before = await countRows(hub, 'devices');
    const response = await post(hub, DEVICES, Buffer.from('{"name":"foo-encoded"}'), { 'Content-Encoding': 'foo' });
    const problem = expectProblem(response, 415, 'unsupported_encoding');
    expect(problem.detail).toContain('"foo"');
    expect(problem.instance).toBe(DEVICES);
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('answers 400 invalid_body for a plain body that claims to be gzip, and creates nothing', async () => {
    const before = await countRows(hub, 'devices');
    const response = await post(hub, DEVICES, Buffer.from('{"name":"not-really-gzip"}'), {
      'Content-Encoding': 'gzip',
    });
    const problem = expectProblem(response, 400, 'invalid_body');
    expect(problem.detail).toContain('gzip');
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('answers 400 invalid_body for a gzip body cut short', async () => {
    const whole = gzipSync(Buffer.from(JSON.stringify({ name: 'truncated-gzip' })));
    const response = await post(hub, DEVICES, whole.subarray(0, whole.length - 8), { 'Content-Encoding': 'gzip' });
    expectProblem(response, 400, 'invalid_body');
  });

  it('answers 415 unsupported_charset for a JSON body in a charset other than UTF-8', async () => {
    const response = await post(hub, DEVICES, Buffer.from('{"name":"latin"}'), {
      'Content-Type': 'application/json; charset=latin1',
    });
    expect(expectProblem(response, 415, 'unsupported_charset').detail).toContain('latin1');
  });

  it('still accepts a valid gzip body', async () => {
    const response = await post(hub, DEVICES, gzipSync(Buffer.from(JSON.stringify({ name: 'gzipped-device' }))), {
      'Content-Encoding': 'gzip',
    });
    expect(response.status, response.text).toBe(201);
    expect(response.body.name).toBe('gzipped-device');
  });
});
