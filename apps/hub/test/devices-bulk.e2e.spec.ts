import { DEVICE_LIMITS } from '@telehub/contracts';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, DEVICE_TOKEN, DEVICES, expectProblem, sha256, validationFields } from './support/api-assertions.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const BULK = `${DEVICES}/bulk`;
const CSV_IN = { 'Content-Type': 'text/csv' };

interface Created {
  id: string;
  name: string;
  labels: string[];
  metadata: Record<string, unknown>;
  token: string;
}

function numbered(count: number, prefix: string): { name: string }[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${String(i).padStart(5, '0')}` }));
}

describe('POST /api/v1/devices/bulk', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('creates 500 devices from a JSON array, in order, each with its own token', async () => {
    const entries = numbered(500, 'json').map((entry, i) => ({ ...entry, labels: [`batch-${i % 3}`] }));
    const devicesBefore = await countRows(hub, 'devices');
    const tokensBefore = await countRows(hub, 'device_tokens');

    const response = await hub.api('POST', BULK, { body: entries });

    expect(response.status).toBe(201);
    const created: Created[] = response.body;
    expect(created.map((device) => device.name)).toEqual(entries.map((entry) => entry.name));
    expect(created[7]).toMatchObject({ labels: ['batch-1'], metadata: {}, disabled: false });
    for (const device of created) expect(device.token).toMatch(DEVICE_TOKEN);
    expect(new Set(created.map((device) => device.token)).size).toBe(500);
    expect(new Set(created.map((device) => device.id)).size).toBe(500);
    expect(await countRows(hub, 'devices')).toBe(devicesBefore + 500);
    expect(await countRows(hub, 'device_tokens')).toBe(tokensBefore + 500);

    const sample = created[321]!;
    const [row] = await hub.database.client.sql<{ token_hash: Buffer }[]>`
      SELECT token_hash FROM device_tokens WHERE device_id = ${sample.id}`;
    expect(row!.token_hash.equals(sha256(sample.token))).toBe(true);
  });

  it('answers id,name,token CSV with Accept: text/csv, quoting names as needed', async () => {
    const names = ['plain', 'with,comma', 'say "hi"', 'two\nlines'];
    const response = await hub.api('POST', BULK, {
      body: names.map((name) => ({ name })),
      headers: { Accept: 'text/csv' },
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv\b/);
    expect(response.text.split('\n')[0]).toBe('id,name,token');
    const rows: Record<string, string>[] = parse(response.text, { columns: true });
    expect(rows.map((row) => row.name)).toEqual(names);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(['id', 'name', 'token']);
      expect(row.token).toMatch(DEVICE_TOKEN);
      const fetched = await hub.api('GET', `${DEVICES}/${row.id}`);
      expect(fetched.body.name).toBe(row.name);
    }
  });

  it('neutralises names a spreadsheet would run as a formula in the CSV answer (OWASP CSV injection)', async () => {
    const names = ['+cmd|calc', '=HYPERLINK("http://evil.example","x")', '-2+3', '@SUM(A1)', 'safe-name', 'a=b'];
    const response = await hub.api('POST', BULK, {
      body: names.map((name) => ({ name })),
      headers: { Accept: 'text/csv' },
    });
    expect(response.status, response.text).toBe(201);
    const lines = response.text.trimEnd().split('\n').slice(1);
    expect(lines.map((line) => line.split(',')[1])).toEqual([
      `"'+cmd|calc"`,
      `"'=HYPERLINK(""http://evil.example""`,
      `"'-2+3"`,
      `"'@SUM(A1)"`,
      'safe-name',
      'a=b',
    ]);
    const rows: Record<string, string>[] = parse(response.text, { columns: true });
    expect(rows.map((row) => row.name)).toEqual(names.map((name, i) => (i < 4 ? `'${name}` : name)));
    // Only the answer is neutralised: the devices keep their names.
    for (const [i, row] of rows.entries()) {
      expect(row.token).toMatch(DEVICE_TOKEN);
      expect((await hub.api('GET', `${DEVICES}/${row.id}`)).body.name).toBe(names[i]);
    }
  });

  it('creates devices from a CSV body with name, labels (separated by ;) and metadata (quoted JSON)', async () => {
    const csv = [
      'name,labels,metadata',
      'csv-sensor-a,site:x;floor-1,"{""serial"":""A1"",""rev"":2}"',
      'csv-sensor-b,,',
      '"csv, sensor c",solo,"{}"',
    ].join('\n');

    const response = await hub.api('POST', BULK, { rawBody: csv, headers: CSV_IN });

    expect(response.status, response.text).toBe(201);
    expect(response.body.map((device: Created) => [device.name, device.labels, device.metadata])).toEqual([
      ['csv-sensor-a', ['site:x', 'floor-1'], { serial: 'A1', rev: 2 }],
      ['csv-sensor-b', [], {}],
      ['csv, sensor c', ['solo'], {}],
    ]);
    for (const device of response.body) expect(device.token).toMatch(DEVICE_TOKEN);
  });

  it('reads a CSV body with a byte-order mark, padded header names and CRLF lines, and can answer in CSV', async () => {
    const csv = '\uFEFF Name , Labels \r\ncrlf-1,a;b\r\ncrlf-2,c\r\n';
    const response = await hub.api('POST', BULK, { rawBody: csv, headers: { ...CSV_IN, Accept: 'text/csv' } });

    expect(response.status, response.text).toBe(201);
    const rows: Record<string, string>[] = parse(response.text, { columns: true });
    expect(rows.map((row) => row.name)).toEqual(['crlf-1', 'crlf-2']);
    expect((await hub.api('GET', `${DEVICES}/${rows[0]!.id}`)).body.labels).toEqual(['a', 'b']);
  });

  describe('all or nothing', () => {
    it('rejects the whole request, naming the index, when one entry in the middle is invalid', async () => {
      const entries: unknown[] = numbered(7, 'atomic');
      entries[3] = { name: '' };
      const before = await countRows(hub, 'devices');

      const response = await hub.api('POST', BULK, { body: entries });

      expect(validationFields(response)).toEqual(['3.name']);
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it('names every invalid entry with its index and field', async () => {
      const entries: unknown[] = numbered(8, 'many-bad');
      entries[2] = { name: 'ok', labels: ['bad label'] };
      entries[5] = { name: 'ok', colour: 'red' };
      entries[7] = { labels: [] };
      const before = await countRows(hub, 'devices');

      const response = await hub.api('POST', BULK, { body: entries });

      expect(validationFields(response)).toEqual(['2.labels.0', '5.colour', '7.name']);
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it('names the row of a CSV body whose metadata is not JSON, and creates nothing', async () => {
      const before = await countRows(hub, 'devices');
      const csv = 'name,metadata\nfine,"{""a"":1}"\nbroken,{not json}\n';
      const response = await hub.api('POST', BULK, { rawBody: csv, headers: CSV_IN });
      expect(validationFields(response)).toEqual(['1.metadata']);
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it('refuses a CSV header with an unknown, duplicate or unnamed column, naming it and the known ones', async () => {
      const before = await countRows(hub, 'devices');
      // A typo of `labels`: the JSON bulk refuses `{"lables": …}` the same way, instead of dropping the labels.
      const typo = await hub.api('POST', BULK, { rawBody: 'name,lables\ntypo-1,lab\n', headers: CSV_IN });
      expect(validationFields(typo)).toEqual(['lables']);
      expect(typo.body.errors[0].message).toBe('unknown column; the columns are name, labels, metadata');
      // Header names are compared trimmed and case-insensitively, so `Name` repeats `name`.
      const twice = await hub.api('POST', BULK, { rawBody: 'name,labels, Name\ntwice-1,a,b\n', headers: CSV_IN });
      expect(validationFields(twice)).toEqual(['name']);
      expect(twice.body.errors[0].message).toBe('column given twice');
      const unnamed = await hub.api('POST', BULK, { rawBody: 'name,,labels\nunnamed-1,x,a\n', headers: CSV_IN });
      expect(validationFields(unnamed)).toEqual(['(column 2)']);
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it('answers 400 invalid_csv for CSV that does not parse', async () => {
      const response = await hub.api('POST', BULK, { rawBody: 'name,labels\n"unclosed,a\n', headers: CSV_IN });
      expectProblem(response, 400, 'invalid_csv');
    });

    it('rolls back the devices already inserted when the database fails part-way', async () => {
      const sql = hub.database.client.sql;
      // Fault injection in this file's own database: the row at index 5,500 is in the second insert chunk.
      await sql`CREATE FUNCTION fail_on_explode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure'; END $$`;
      await sql`CREATE TRIGGER explode BEFORE INSERT ON devices FOR EACH ROW
        WHEN (NEW.name = 'explode') EXECUTE FUNCTION fail_on_explode()`;
      try {
        const entries = numbered(6000, 'rollback');
        entries[5500] = { name: 'explode' };
        const before = await countRows(hub, 'devices');

        const response = await hub.api('POST', BULK, { body: entries });

        expectProblem(response, 500, 'internal_error');
        expect(response.text).not.toContain('injected failure');
        expect(await countRows(hub, 'devices')).toBe(before);
      } finally {
        await sql`DROP TRIGGER explode ON devices`;
        await sql`DROP FUNCTION fail_on_explode()`;
      }
    });
  });

  describe('size limits', () => {
    it('answers 400 for an empty array and for a single object', async () => {
      expect(validationFields(await hub.api('POST', BULK, { body: [] }))).toEqual(['(body)']);
      expect(validationFields(await hub.api('POST', BULK, { body: { name: 'not-an-array' } }))).toEqual(['(body)']);
      expect(validationFields(await hub.api('POST', BULK, { rawBody: 'name\n', headers: CSV_IN }))).toEqual(['(body)']);
    });

    it(`answers 413 too_many_devices for ${DEVICE_LIMITS.bulkMaxDevices + 1} entries, JSON or CSV`, async () => {
      const before = await countRows(hub, 'devices');
      const entries = numbered(DEVICE_LIMITS.bulkMaxDevices + 1, 'too-many');

      const json = expectProblem(await hub.api('POST', BULK, { body: entries }), 413, 'too_many_devices');
      expect(json.detail).toContain(String(DEVICE_LIMITS.bulkMaxDevices + 1));
      const csv = `name\n${entries.map((entry) => entry.name).join('\n')}\n`;
      expectProblem(await hub.api('POST', BULK, { rawBody: csv, headers: CSV_IN }), 413, 'too_many_devices');
      expect(await countRows(hub, 'devices')).toBe(before);
    });

    it(`creates exactly ${DEVICE_LIMITS.bulkMaxDevices} devices in one request within a few seconds`, async ({
      annotate,
    }) => {
      const entries = numbered(DEVICE_LIMITS.bulkMaxDevices, 'max').map((entry) => ({
        ...entry,
        labels: ['fleet', 'max-bulk'],
        metadata: { model: 'TH-1', firmware: '1.4.2' },
      }));
      const before = await countRows(hub, 'devices');

      const started = performance.now();
      const response = await hub.api('POST', BULK, { body: entries });
      const elapsedMs = Math.round(performance.now() - started);
      await annotate(`bulk of ${entries.length} devices answered in ${elapsedMs} ms`);

      expect(response.status).toBe(201);
      expect(response.body).toHaveLength(DEVICE_LIMITS.bulkMaxDevices);
      expect(new Set(response.body.map((device: Created) => device.token)).size).toBe(DEVICE_LIMITS.bulkMaxDevices);
      expect(response.body.at(-1).name).toBe(entries.at(-1)!.name);
      // How fast is the benchmarks' business, not a test's: the time is reported, not asserted.
      expect(await countRows(hub, 'devices')).toBe(before + DEVICE_LIMITS.bulkMaxDevices);
    });
  });
});
