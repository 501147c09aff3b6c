import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, DEVICES, expectProblem } from './support/api-assertions.js';
import { provisionDevice } from './support/devices.js';
import { RawHttpConnection } from './support/raw-http.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const MAX_BYTES = 2048;
const BULK_MAX_BYTES = 8192;
const MESSAGE_MAX_BYTES = 1024;
const REQUEST_TIMEOUT_MS = 1500;
/** Also how long the hub keeps reading (and dropping) a refused body before it closes the connection. */
const KEEP_ALIVE_TIMEOUT_MS = 1000;
/** What the issue measured: ten of these, unauthenticated, took the hub's RSS from 334 to 709 MB. */
const HUGE_BODY_BYTES = 14 * 1024 * 1024;

/** A bulk JSON body of `count` devices and its size in bytes. */
function bulkBody(count: number): { body: { name: string }[]; bytes: number } {
  const body = Array.from({ length: count }, (_, i) => ({ name: `limited-device-${String(i).padStart(4, '0')}` }));
  return { body, bytes: Buffer.byteLength(JSON.stringify(body)) };
}

describe('request bodies: read after authentication, with a limit per route and a time limit', () => {
  let hub: TestHub;
  let port: number;
  let device: { id: string; token: string };
  beforeAll(async () => {
    hub = await startTestHub({
      TELEHUB_MAX_REQUEST_BYTES: String(MAX_BYTES),
      TELEHUB_BULK_MAX_REQUEST_BYTES: String(BULK_MAX_BYTES),
      TELEHUB_MAX_MESSAGE_BYTES: String(MESSAGE_MAX_BYTES),
      TELEHUB_HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    });
    port = hub.hub.httpPort;
    device = await provisionDevice(hub, 'limits-device');
  });
  afterAll(() => hub?.close());

  describe(`bulk provisioning: TELEHUB_BULK_MAX_REQUEST_BYTES (${BULK_MAX_BYTES})`, () => {
    it('accepts a bulk JSON body over the admin limit and just under its own', async () => {
      const { body, bytes } = bulkBody(240);
      expect(bytes).toBeGreaterThan(MAX_BYTES);
      expect(bytes).toBeGreaterThan(BULK_MAX_BYTES * 0.8);
      expect(bytes).toBeLessThanOrEqual(BULK_MAX_BYTES);
      const response = await hub.api('POST', `${DEVICES}/bulk`, { body });
      expect(response.status, response.text).toBe(201);
    });

    it('answers 413 payload_too_large naming the setting for a bulk JSON body over it, and creates nothing', async () => {
      const { body, bytes } = bulkBody(280);
      expect(bytes).toBeGreaterThan(BULK_MAX_BYTES);
      const before = await countRows(hub, 'devices');

      const problem = expectProblem(await hub.api('POST', `${DEVICES}/bulk`, { body }), 413, 'payload_too_large');

      expect(problem.detail).toContain(String(BULK_MAX_BYTES));
      expect(problem.detail).toContain('TELEHUB_BULK_MAX_REQUEST_BYTES');
      expect(problem.instance).toBe(`${DEVICES}/bulk`);
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it('answers 413 payload_too_large for a CSV body over it', async () => {
      const csv = `name\n${Array.from({ length: 700 }, (_, i) => `csv-limited-${i}`).join('\n')}\n`;
      expect(Buffer.byteLength(csv)).toBeGreaterThan(BULK_MAX_BYTES);
      const before = await countRows(hub, 'devices');

      const response = await hub.api('POST', `${DEVICES}/bulk`, {
        rawBody: csv,
        headers: { 'Content-Type': 'text/csv' },
      });

      expect(expectProblem(response, 413, 'payload_too_large').detail).toContain('TELEHUB_BULK_MAX_REQUEST_BYTES');
      expect(await countRows(hub, 'devices')).toBe(before);
    });
  });

  describe(`other admin routes: TELEHUB_MAX_REQUEST_BYTES (${MAX_BYTES})`, () => {
    it('answers 413 payload_too_large naming the setting for a device over it, before validating it', async () => {
      const response = await hub.api('POST', DEVICES, { body: { name: 'big', metadata: { blob: 'x'.repeat(3000) } } });
      const problem = expectProblem(response, 413, 'payload_too_large');
      expect(problem.detail).toContain(String(MAX_BYTES));
      expect(problem.detail).toContain('TELEHUB_MAX_REQUEST_BYTES');
    });

    it('answers 413 on the Content-Length alone, before the body is sent', async () => {
      const connection = await RawHttpConnection.open(port);
      connection.writeHead('POST', DEVICES, {
        Authorization: `Bearer ${hub.adminToken}`,
        'Content-Type': 'application/json',
        'Content-Length': MAX_BYTES + 1,
      });
      const response = await connection.nextResponse();
      expect(response.status).toBe(413);
      expect(response.body.detail).toContain('TELEHUB_MAX_REQUEST_BYTES');
      expect(await connection.closedWithin(KEEP_ALIVE_TIMEOUT_MS + 5_000)).toBe(true);
    });
  });

  describe('the device ingest routes: TELEHUB_MAX_MESSAGE_BYTES', () => {
    it('answers 413 message_too_large naming the setting', async () => {
      const response = await hub.api('POST', '/api/v1/device/telemetry', {
        rawBody: JSON.stringify({ temp: 1, pad: 'x'.repeat(MESSAGE_MAX_BYTES) }),
        headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
        auth: false,
      });
      expect(expectProblem(response, 413, 'message_too_large').detail).toContain('TELEHUB_MAX_MESSAGE_BYTES');
    });
  });

  describe('authentication comes before the body', () => {
    it.each([
      ['no token', {}],
      ['a wrong admin token', { Authorization: 'Bearer tha_wrongwrongwrongwrongwrongwrongwrongwrongwro' }],
    ])(
      'answers an unauthenticated 14 MB POST (%s) with 401 before any of its body is sent, and closes',
      async (_what, headers) => {
        for (const path of [DEVICES, `${DEVICES}/bulk`]) {
          const connection = await RawHttpConnection.open(port);
          connection.writeHead('POST', path, {
            ...headers,
            'Content-Type': 'application/json',
            'Content-Length': HUGE_BODY_BYTES,
          });
          // Not a byte of the body was sent: the hub answered on the headers alone.
          const response = await connection.nextResponse();
          expect(response.status).toBe(401);
          expect(response.body.code).toBe('unauthorized');
          // The body never comes: the connection is closed once TELEHUB_HTTP_KEEP_ALIVE_TIMEOUT_MS has passed.
          expect(await connection.closedWithin(KEEP_ALIVE_TIMEOUT_MS + 5_000)).toBe(true);
        }
      },
    );

    it('lets clients that send their whole unwanted body read the 401 (ten 14 MB bodies at once)', async () => {
      const body = new Uint8Array(HUGE_BODY_BYTES).fill(0x20);
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () =>
          fetch(`${hub.baseUrl}${DEVICES}/bulk`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tha_wrong' },
            body,
          }).then(
            (response) => response.status,
            (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
          ),
        ),
      );
      expect(statuses).toEqual(Array(10).fill(401));
    });

    it('answers 401 for a device token on the device routes before their body is sent, too', async () => {
      const connection = await RawHttpConnection.open(port);
      connection.writeHead('POST', '/api/v1/device/telemetry', {
        Authorization: 'Bearer thd_unknownunknownunknownunknownunknownunknown1',
        'Content-Type': 'application/json',
        'Content-Length': HUGE_BODY_BYTES,
      });
      expect((await connection.nextResponse()).status).toBe(401);
      expect(await connection.closedWithin(KEEP_ALIVE_TIMEOUT_MS + 5_000)).toBe(true);
    });

    it('tells a client that waits for 100 Continue that it is unauthorized, without asking for the body', async () => {
      const connection = await RawHttpConnection.open(port);
      connection.writeHead('POST', `${DEVICES}/bulk`, {
        'Content-Type': 'application/json',
        'Content-Length': HUGE_BODY_BYTES,
        Expect: '100-continue',
      });
      const response = await connection.nextResponse();
      expect(response.status).toBe(401);
      expect(await connection.closedWithin(KEEP_ALIVE_TIMEOUT_MS + 5_000)).toBe(true);
    });

    it('asks an authenticated client that waits for 100 Continue for its body, then answers', async () => {
      const body = JSON.stringify({ name: 'continued' });
      for (const [path, token, expected] of [
        [DEVICES, hub.adminToken!, 201],
        ['/api/v1/device/telemetry', device.token, 200],
      ] as const) {
        const connection = await RawHttpConnection.open(port);
        connection.writeHead('POST', path, {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(path === DEVICES ? body : '{"temp":1}'),
          Expect: '100-continue',
        });
        expect((await connection.nextResponse()).status).toBe(100);
        connection.write(path === DEVICES ? body : '{"temp":1}');
        const response = await connection.nextResponse();
        expect(response.status, response.text).toBe(expected);
        connection.destroy();
      }
    });
  });

  describe(`a body that does not arrive within TELEHUB_HTTP_REQUEST_TIMEOUT_MS (${REQUEST_TIMEOUT_MS} ms)`, () => {
    // A hub of its own: a request timeout this short would also cut off the large bodies sent above on a busy machine.
    let slowHub: TestHub;
    let slowDevice: { id: string; token: string };
    beforeAll(async () => {
      slowHub = await startTestHub({
        TELEHUB_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        TELEHUB_HTTP_HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        TELEHUB_HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      });
      slowDevice = await provisionDevice(slowHub, 'slow-device');
    });
    afterAll(() => slowHub?.close());

    it.each([
      ['an admin route', DEVICES, () => slowHub.adminToken!],
      ['a device ingest route', '/api/v1/device/telemetry', () => slowDevice.token],
    ])('is cut off with 408 on %s, and nothing is stored', async (_what, path, token) => {
      const hub = slowHub;
      const port = hub.hub.httpPort;
      const devicesBefore = await countRows(hub, 'devices');
      const connection = await RawHttpConnection.open(port);
      connection.writeHead('POST', path, {
        Authorization: `Bearer ${token()}`,
        'Content-Type': 'application/json',
        'Content-Length': 100,
      });
      connection.write('{"name": "slow');
      const response = await connection.nextResponse(REQUEST_TIMEOUT_MS + 5_000);
      expect(response.status).toBe(408);
      expect(response.body.code).toBe('request_timeout');
      expect(response.body.detail).toContain('TELEHUB_HTTP_REQUEST_TIMEOUT_MS');
      expect(await connection.closedWithin(KEEP_ALIVE_TIMEOUT_MS + 5_000)).toBe(true);
      expect(await countRows(hub, 'devices')).toBe(devicesBefore);
      // The hub still answers.
      expect((await hub.api('GET', DEVICES)).status).toBe(200);
    });
  });
});
