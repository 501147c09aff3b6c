import { get, type IncomingMessage } from 'node:http';
import { bucketStart, TelemetryHistoryRepository, TelemetryRepository } from '@telehub/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './support/api-assertions.js';
import { eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const H = 3_600_000;
/** Rows in the export: about 11 MB of CSV, far more than socket buffers hold for a client that does not read. */
const ROWS = 300_000;
/** For the hub that tests the stall timeout; the other keeps the default (60 s). */
const STALL_TIMEOUT_MS = 1000;

/** A download whose body the test reads at will (paused at first), over node:http so nothing buffers ahead. */
interface Download {
  response: IncomingMessage;
  /** Reads the rest and resolves with the whole text. */
  finish(): Promise<string>;
  abort(): void;
}

describe('CSV export streaming', () => {
  let hub: TestHub;
  let device: ProvisionedDevice;
  const base = bucketStart(Date.now(), H) - 2 * H;
  const range = `from=${new Date(base).toISOString()}&to=${new Date(base + H).toISOString()}`;

  function download(query: string, from: TestHub = hub): Promise<Download> {
    return new Promise((resolve, reject) => {
      const request = get(
        `${from.baseUrl}/api/v1/devices/${device.id}/telemetry?${query}`,
        // Accepting compression as browsers do: the export must stay an uncompressed stream all the same.
        { headers: { Authorization: `Bearer ${hub.adminToken}`, 'Accept-Encoding': 'gzip, deflate, br, zstd' } },
        (response) => {
          response.pause();
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          resolve({
            response,
            finish: () =>
              new Promise((done, fail) => {
                response.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
                response.on('error', fail);
                response.on('aborted', () => fail(new Error('aborted')));
                response.resume();
              }),
            abort: () => request.destroy(),
          });
        },
      );
      request.on('error', reject);
    });
  }

  /** The export queries the hub has open right now (a cursor holds its statement open between fetches). */
  async function openExportQueries(): Promise<number> {
    const [row] = await hub.database.client.sql<{ open: number }[]>`
      SELECT count(*)::int AS open FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
        AND query LIKE '%AS v FROM telemetry%ORDER BY time'`;
    return row!.open;
  }

  beforeAll(async () => {
    hub = await startTestHub();
    device = await provisionDevice(hub, 'busy');
    // Straight through the repository: this many rows over a device transport would take a while.
    const times = Array.from({ length: ROWS }, (_, i) => base + Math.floor(i / 2) * 20);
    await new TelemetryRepository(hub.database.client).insertBatch({
      times,
      deviceIds: times.map(() => device.id),
      metrics: times.map((_, i) => (i % 2 === 0 ? 'a' : 'b')),
      values: times.map((_, i) => i),
    });
  }, 120_000);
  afterAll(() => hub?.close());

  it('refuses more than TELEHUB_HISTORY_MAX_POINTS raw samples as JSON, pointing to a bucket or CSV', async () => {
    const answer = await hub.api('GET', `/api/v1/devices/${device.id}/telemetry?${range}&bucket=raw&metrics=a`);
    const problem = expectProblem(answer, 400, 'too_many_points');
    expect(problem.detail).toBe(
      'metric a has more than 10000 raw samples in this range (TELEHUB_HISTORY_MAX_POINTS): use a bucket (e.g. 5s), a shorter range, or format=csv',
    );
  });

  it('streams from a cursor at the pace the client reads, holding back while it does not', async () => {
    // How long the whole export takes for a client that reads at once.
    let started = Date.now();
    await (await download(`${range}&format=csv`)).finish();
    const fullSpeedMs = Date.now() - started;

    const paused = await download(`${range}&format=csv`);
    expect(paused.response.statusCode).toBe(200);
    expect(paused.response.headers['content-encoding']).toBeUndefined();
    expect(paused.response.headers['transfer-encoding']).toBe('chunked');
    started = Date.now();
    // Not reading for twice that: the hub has sent what the socket buffers hold and keeps its cursor open for the
    // rest, where an export that ignored back-pressure would have read everything into memory and finished.
    await new Promise((resolve) => setTimeout(resolve, 2 * fullSpeedMs + 250));
    expect(await openExportQueries()).toBe(1);
    const text = await paused.finish();
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS + 1);
    expect(lines[0]).toBe('time,metric,value');
    expect(lines[1]).toBe(`${new Date(base).toISOString()},a,0`);
    expect(lines[ROWS / 2]).toBe(`${new Date(base + (ROWS / 2 - 1) * 20).toISOString()},a,${ROWS - 2}`);
    expect(lines[ROWS / 2 + 1]).toBe(`${new Date(base).toISOString()},b,1`);
    expect(lines.at(-1)).toBe(`${new Date(base + (ROWS / 2 - 1) * 20).toISOString()},b,${ROWS - 1}`);
    expect(await eventually(async () => (await openExportQueries()) === 0)).toBe(true);
  });

  it('closes the cursor when the client goes away', async () => {
    const paused = await download(`${range}&format=csv`);
    await eventually(async () => (await openExportQueries()) === 1);
    paused.abort();
    expect(await eventually(async () => (await openExportQueries()) === 0)).toBe(true);
  });

  it('neutralises metric names a spreadsheet would take for a formula, and keeps negative values numbers', async () => {
    const sender = await provisionDevice(hub, 'spreadsheet');
    const sent = await fetch(`${hub.baseUrl}/api/v1/device/telemetry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${sender.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ '-12v-rail': -3.5, 'temp-1': 21, ts: base }),
    });
    expect(sent.status, await sent.text()).toBe(200);
    const answer = await hub.api('GET', `/api/v1/devices/${sender.id}/telemetry?${range}&format=csv`);
    expect(answer.status).toBe(200);
    const time = new Date(base).toISOString();
    expect(answer.text.trimEnd().split('\n').sort()).toEqual(
      [`${time},"'-12v-rail",-3.5`, `${time},temp-1,21`, 'time,metric,value'].sort(),
    );
  });

  it('answers HEAD with the headers only, without reading the export', async () => {
    // Counts the batches the export reads, on the hub's own repository.
    const repository = hub.hub.app.get(TelemetryHistoryRepository);
    const rawCursor = repository.rawCursor;
    let batches = 0;
    repository.rawCursor = async function* (...args) {
      for await (const batch of rawCursor.apply(repository, args)) {
        batches += 1;
        yield batch;
      }
    };
    try {
      const response = await fetch(`${hub.baseUrl}/api/v1/devices/${device.id}/telemetry?${range}&format=csv`, {
        method: 'HEAD',
        headers: { Authorization: `Bearer ${hub.adminToken}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="telemetry-.*\.csv"$/);
      expect(await eventually(async () => (await openExportQueries()) === 0)).toBe(true);
      expect(batches).toBe(1);
    } finally {
      repository.rawCursor = rawCursor;
    }
  });

  it('streams at most TELEHUB_HISTORY_CSV_MAX_EXPORTS exports at once, then answers 429', async () => {
    const first = await download(`${range}&format=csv`);
    const second = await download(`${range}&format=csv`);
    const refused = await hub.api('GET', `/api/v1/devices/${device.id}/telemetry?${range}&format=csv`);
    const problem = expectProblem(refused, 429, 'too_many_exports');
    expect(problem.detail).toMatch(/at most 2 CSV exports .*TELEHUB_HISTORY_CSV_MAX_EXPORTS/);
    expect(refused.headers.get('retry-after')).toBe('5');
    // JSON answers are not exports: they are not held back.
    expect((await hub.api('GET', `/api/v1/devices/${device.id}/telemetry?${range}`)).status).toBe(200);

    first.abort();
    const third = await eventually(async () => {
      const answer = await hub.api('GET', `/api/v1/devices/${device.id}/telemetry?${range}&bucket=1m&format=csv`);
      return answer.status === 200 ? answer : undefined;
    });
    // 150,000 times 20 ms apart: 50 minutes of two metrics.
    expect(third?.text.trimEnd().split('\n')).toHaveLength(1 + 2 * 50);
    second.abort();
    expect(await eventually(async () => (await openExportQueries()) === 0)).toBe(true);
  });

  it('cuts off a client that reads nothing for TELEHUB_HISTORY_CSV_STALL_TIMEOUT_MS, releasing its cursor', async () => {
    // A second hub on the same database (so with the same TELEHUB_ADMIN_TOKEN), with a short stall timeout.
    const impatient = await startTestHub(
      { TELEHUB_HISTORY_CSV_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS) },
      { database: hub.database, adminToken: hub.adminToken },
    );
    try {
      const stalled = await download(`${range}&format=csv`, impatient);
      const started = Date.now();
      expect(await eventually(async () => (await openExportQueries()) === 1)).toBe(true);
      expect(await eventually(async () => (await openExportQueries()) === 0, STALL_TIMEOUT_MS + 5000)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_TIMEOUT_MS - 100);
      // The transfer was reset: reading on finds a failed download, not a complete-looking file.
      await expect(stalled.finish()).rejects.toThrow();
      const next = await impatient.api('GET', `/api/v1/devices/${device.id}/telemetry?${range}&bucket=1h&format=csv`);
      expect(next.status).toBe(200);
    } finally {
      await impatient.close();
    }
  }, 20_000);
});
