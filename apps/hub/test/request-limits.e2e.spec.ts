import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, DEVICES, expectProblem } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const MAX_BYTES = 2048;

/** A bulk JSON body of `count` devices and its size in bytes. */
function bulkBody(count: number): { body: { name: string }[]; bytes: number } {
  const body = Array.from({ length: count }, (_, i) => ({ name: `limited-device-${String(i).padStart(4, '0')}` }));
  return { body, bytes: Buffer.byteLength(JSON.stringify(body)) };
}

describe(`request bodies over TELEHUB_MAX_REQUEST_BYTES (${MAX_BYTES})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ TELEHUB_MAX_REQUEST_BYTES: String(MAX_BYTES) });
  });
  afterAll(() => hub?.close());

  it('accepts a bulk JSON body just under the limit', async () => {
    const { body, bytes } = bulkBody(60);
    expect(bytes).toBeGreaterThan(MAX_BYTES * 0.8);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
    expect((await hub.api('POST', `${DEVICES}/bulk`, { body })).status).toBe(201);
  });

  it('answers 413 payload_too_large for a bulk JSON body over the limit, and creates nothing', async () => {
    const { body, bytes } = bulkBody(70);
    expect(bytes).toBeGreaterThan(MAX_BYTES);
    const before = await countRows(hub, 'devices');

    const problem = expectProblem(await hub.api('POST', `${DEVICES}/bulk`, { body }), 413, 'payload_too_large');

    expect(problem.detail).toContain(String(MAX_BYTES));
    expect(problem.instance).toBe(`${DEVICES}/bulk`);
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('answers 413 payload_too_large for a CSV body over the limit', async () => {
    const csv = `name\n${Array.from({ length: 200 }, (_, i) => `csv-limited-${i}`).join('\n')}\n`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(MAX_BYTES);
    const before = await countRows(hub, 'devices');

    const response = await hub.api('POST', `${DEVICES}/bulk`, {
      rawBody: csv,
      headers: { 'Content-Type': 'text/csv' },
    });

    expectProblem(response, 413, 'payload_too_large');
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('answers 413 payload_too_large for a single device over the limit, before validating it', async () => {
    const response = await hub.api('POST', DEVICES, { body: { name: 'big', metadata: { blob: 'x'.repeat(3000) } } });
    expectProblem(response, 413, 'payload_too_large');
  });
});
