import { DEVICE_LIMITS } from '@telehub/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countRows,
  DEVICE_TOKEN,
  DEVICES,
  expectProblem,
  sha256,
  UUID,
  validationFields,
} from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/** Metadata whose JSON serialization is exactly `bytes` bytes long (ASCII only). */
function metadataOfBytes(bytes: number): Record<string, string> {
  return { blob: 'x'.repeat(bytes - JSON.stringify({ blob: '' }).length) };
}

describe('POST /api/v1/devices', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('answers 201 with the device, empty labels and metadata by default, and a thd_ token', async () => {
    const before = Date.now();
    const response = await hub.api('POST', DEVICES, { body: { name: 'boiler-1' } });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.body).toMatchObject({
      id: expect.stringMatching(UUID),
      name: 'boiler-1',
      labels: [],
      metadata: {},
      disabled: false,
      lastSeenAt: null,
      token: expect.stringMatching(DEVICE_TOKEN),
    });
    const createdAt = Date.parse(response.body.createdAt);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
    expect(response.body.updatedAt).toBe(response.body.createdAt);
  });

  it('stores the token only as its SHA-256 hash and never shows it again', async () => {
    const { id, token } = (await hub.api('POST', DEVICES, { body: { name: 'meter-7' } })).body;

    const rows = await hub.database.client.sql<{ token_hash: Buffer; hint: string }[]>`
      SELECT token_hash, hint FROM device_tokens WHERE device_id = ${id}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.equals(sha256(token))).toBe(true);
    expect(rows[0]!.hint).toBe(`thd_…${token.slice(-4)}`);

    const fetched = await hub.api('GET', `${DEVICES}/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('token');
    expect(fetched.text).not.toContain(token);
  });

  it('trims the name and keeps labels and nested metadata as given', async () => {
    const metadata = { serial: 'A-17', location: { lat: 52.52, lon: 13.4 }, tags: ['x', 1, null], note: 'café ☕' };
    const labels = ['site:berlin', 'floor/2', 'v1.2_rev-b'];
    const response = await hub.api('POST', DEVICES, { body: { name: '  pump 3  ', labels, metadata } });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'pump 3', labels, metadata });
    const fetched = await hub.api('GET', `${DEVICES}/${response.body.id}`);
    expect(fetched.body).toMatchObject({ name: 'pump 3', labels, metadata });
  });

  it('keeps metadata keys named like JavaScript internals (constructor, prototype) as given', async () => {
    const metadata = { constructor: 'ACME', prototype: true, parts: [{ constructor: 'Bosch' }] };
    const response = await hub.api('POST', DEVICES, { body: { name: 'proto-1', metadata } });
    expect(response.status, response.text).toBe(201);
    expect(response.body.metadata).toEqual(metadata);
    expect((await hub.api('GET', `${DEVICES}/${response.body.id}`)).body.metadata).toEqual(metadata);
  });

  it('refuses a "__proto__" key of the request as an unknown field, like any other', async () => {
    const before = await countRows(hub, 'devices');
    const response = await hub.api('POST', DEVICES, {
      rawBody: '{"name": "d", "__proto__": {"admin": true}}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(validationFields(response)).toEqual(['__proto__']);
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('gives every device its own token', async () => {
    const first = (await hub.api('POST', DEVICES, { body: { name: 'twin' } })).body;
    const second = (await hub.api('POST', DEVICES, { body: { name: 'twin' } })).body;
    expect(second.id).not.toBe(first.id);
    expect(second.token).not.toBe(first.token);
  });

  it(`accepts metadata of exactly ${DEVICE_LIMITS.metadataMaxBytes} bytes when serialized`, async () => {
    const metadata = metadataOfBytes(DEVICE_LIMITS.metadataMaxBytes);
    const response = await hub.api('POST', DEVICES, { body: { name: 'at-the-limit', metadata } });
    expect(response.status).toBe(201);
    expect(response.body.metadata).toEqual(metadata);
  });

  describe('rejects invalid devices with 400 Problem Details naming each offending field', () => {
    const cases: [string, unknown, string[]][] = [
      ['a missing name', { labels: ['a'] }, ['name']],
      ['an empty name', { name: '' }, ['name']],
      ['a name of blanks only', { name: '   ' }, ['name']],
      ['a name over 200 characters', { name: 'n'.repeat(DEVICE_LIMITS.nameMaxLength + 1) }, ['name']],
      ['a name with a NUL character', { name: 'bad\u0000name' }, ['name']],
      [
        'labels with spaces, semicolons or nothing',
        { name: 'd', labels: ['ok', 'has space', 'semi;colon', ''] },
        ['labels.1', 'labels.2', 'labels.3'],
      ],
      ['more than 50 labels', { name: 'd', labels: Array.from({ length: 51 }, (_, i) => `l${i}`) }, ['labels']],
      ['an unknown extra key', { name: 'd', colour: 'red' }, ['colour']],
      ['two unknown keys', { name: 'd', id: 'mine', token: 'thd_x' }, ['id', 'token']],
      [
        'metadata one byte over 16 KiB',
        { name: 'd', metadata: metadataOfBytes(DEVICE_LIMITS.metadataMaxBytes + 1) },
        ['metadata'],
      ],
      [
        'metadata over 16 KiB in UTF-8 though under 16 Ki characters',
        { name: 'd', metadata: { k: 'é'.repeat(9000) } },
        ['metadata'],
      ],
      ['metadata with a NUL character', { name: 'd', metadata: { nested: { k: 'a\u0000' } } }, ['metadata']],
      ['a number for the name', { name: 42 }, ['name']],
      ['a string for labels', { name: 'd', labels: 'a;b' }, ['labels']],
      ['an array for metadata', { name: 'd', metadata: [1, 2] }, ['metadata']],
      ['a string for metadata', { name: 'd', metadata: '{"a":1}' }, ['metadata']],
      ['wrong types everywhere', { name: null, labels: [1], metadata: true }, ['labels.0', 'metadata', 'name']],
      ['an array body', [{ name: 'd' }], ['(body)']],
    ];

    it.each(cases)('%s', async (_title, body, fields) => {
      const before = await countRows(hub, 'devices');
      const response = await hub.api('POST', DEVICES, { body });

      expect(validationFields(response)).toEqual(fields);
      expect(response.body).toMatchObject({
        type: 'https://telehub.dev/problems/validation-failed',
        instance: DEVICES,
        detail: expect.stringContaining(fields[0]!),
      });
      expect(await countRows(hub, 'devices')).toBe(before);
    });
  });

  it('answers 400 invalid_json for a malformed JSON body', async () => {
    const before = await countRows(hub, 'devices');
    const response = await hub.api('POST', DEVICES, {
      rawBody: '{"name": "oops",',
      headers: { 'Content-Type': 'application/json' },
    });

    const problem = expectProblem(response, 400, 'invalid_json');
    expect(problem.detail).toEqual(expect.stringMatching(/\S/));
    expect(await countRows(hub, 'devices')).toBe(before);
  });

  it('answers 400 for a body that is not JSON at all', async () => {
    const response = await hub.api('POST', DEVICES, {
      rawBody: 'name=form-encoded',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(validationFields(response)).toEqual(['(body)']);
  });
});
