import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDatabaseOutage } from './support/database-outage.js';
import { provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

interface LogLine {
  msg?: string;
  reqId?: string;
  url?: string;
  req?: { id: string; url: string };
  res?: { statusCode: number };
}

/**
 * A service that logs while a request is handled takes the hub's one logger, not the request's: the line must
 * still carry the request's id (`reqId`), the one of the access log line and the `X-Request-Id` answer header.
 */
describe('logs written while handling a request carry its request id', () => {
  let hub: TestHub;
  const logged: string[] = [];
  const lines = (): LogLine[] =>
    logged
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  /** The access log line of this request (pino-http writes it once the answer is finished). */
  async function accessLine(requestId: string): Promise<LogLine> {
    for (let waited = 0; waited < 3000; waited += 10) {
      const line = lines().find((entry) => entry.req?.id === requestId && entry.res);
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no access log line for ${requestId}`);
  }

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    hub = await startTestHub({ TELEHUB_LOG_LEVEL: 'info', TELEHUB_LOG_FORMAT: 'json' }, { logDestination: sink });
  });
  afterAll(() => hub?.close());

  it('a telemetry message the database refuses: the ingest warning names the device request', async () => {
    const sql = hub.database.client.sql;
    // An operator's check the hub's validation lets through and the database refuses (SQLSTATE 23514).
    await sql`ALTER TABLE telemetry ADD CONSTRAINT request_context_check CHECK (value <> 666)`;
    try {
      const device = await provisionDevice(hub, 'logged-device');
      const response = await hub.api('POST', '/api/v1/device/telemetry', {
        rawBody: '{"temp":666}',
        headers: {
          Authorization: `Bearer ${device.token}`,
          'Content-Type': 'application/json',
          'X-Request-Id': 'refused-telemetry',
        },
      });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('data_rejected');
      expect(response.headers.get('x-request-id')).toBe('refused-telemetry');
      expect((await accessLine('refused-telemetry')).res?.statusCode).toBe(400);
      // Logged by the ingest service when the writer's batch fails: on an idle hub this request's write starts
      // that batch, so the warning is in its context.
      const warning = lines().find((line) => line.msg === 'the database refused a telemetry message');
      expect(warning?.reqId).toBe('refused-telemetry');
    } finally {
      await sql`ALTER TABLE telemetry DROP CONSTRAINT request_context_check`;
    }
  });

  it('requests failing at the same time: each error line has its own request id, made up or given', async () => {
    const paths = ['/api/v1/devices', '/api/v1/admin-tokens', '/api/v1/fleet/summary'];
    const outage = await startDatabaseOutage(hub.database);
    let answers: Array<{ status: number; headers: Headers }>;
    try {
      answers = await Promise.all(
        paths.map((path, index) =>
          // The last one without X-Request-Id: the hub makes one up and answers with it.
          hub.api('GET', path, index < 2 ? { headers: { 'X-Request-Id': `outage-${index}` } } : {}),
        ),
      );
    } finally {
      await outage.end();
    }
    const ids = answers.map((answer) => answer.headers.get('x-request-id'));
    expect(answers.map((answer) => answer.status)).toEqual([500, 500, 500]);
    expect(ids.slice(0, 2)).toEqual(['outage-0', 'outage-1']);
    expect(ids[2]).toMatch(/^[0-9a-f-]{36}$/);
    for (const [index, path] of paths.entries()) {
      const id = ids[index]!;
      expect((await accessLine(id)).req?.url).toBe(path);
      const failed = lines().filter((line) => line.msg === 'request failed' && line.url === path);
      expect(failed.map((line) => line.reqId)).toEqual([id]);
    }
  });

  it('lines logged outside a request carry no request id', () => {
    const startup = lines().filter((line) => line.msg?.startsWith('HTTP API listening'));
    expect(startup).toHaveLength(1);
    expect(startup[0]).not.toHaveProperty('reqId');
  });
});
