import { bucketStart, TelemetryRepository, wholeBucketRange } from '@telehub/db';
import { parse } from 'csv-parse/sync';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, UNKNOWN_ID, validationFields } from './support/api-assertions.js';
import { eventually, type ProvisionedDevice, provisionDevice } from './support/devices.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const AGGS = ['avg', 'min', 'max', 'last', 'count'] as const;

interface Sample {
  metric: string;
  time: number;
  value: number;
}

/** Sends samples as the device over HTTP ingest (one message per 200 timestamps); resolves once committed. */
async function ingest(hub: TestHub, device: ProvisionedDevice, samples: Sample[]): Promise<void> {
  const byTime = new Map<number, Record<string, number>>();
  for (const { metric, time, value } of samples) byTime.set(time, { ...byTime.get(time), ts: time, [metric]: value });
  const objects = [...byTime.values()];
  for (let start = 0; start < objects.length; start += 200) {
    const answer = await hub.api('POST', '/api/v1/device/telemetry', {
      body: objects.slice(start, start + 200),
      headers: { Authorization: `Bearer ${device.token}` },
      auth: false,
    });
    expect(answer.status, answer.text).toBe(200);
  }
}

/** The figures a bucketed query must give, computed here from the samples sent: whole buckets over [from, to). */
function expectedSeries(samples: Sample[], fromMs: number, toMs: number, bucketMs: number, agg: string) {
  const whole = wholeBucketRange(fromMs, toMs, bucketMs);
  const groups = new Map<string, Map<number, Sample[]>>();
  for (const sample of samples) {
    if (sample.time < whole.fromMs || sample.time >= whole.toMs) continue;
    const buckets = groups.get(sample.metric) ?? new Map<number, Sample[]>();
    const start = bucketStart(sample.time, bucketMs);
    buckets.set(start, [...(buckets.get(start) ?? []), sample]);
    groups.set(sample.metric, buckets);
  }
  return [...groups.keys()].sort().map((metric) => {
    const buckets = [...groups.get(metric)!.entries()].sort(([a], [b]) => a - b);
    const values = buckets.map(([, group]) => {
      const numbers = group.map((sample) => sample.value);
      if (agg === 'avg') return numbers.reduce((a, b) => a + b, 0) / numbers.length;
      if (agg === 'min') return Math.min(...numbers);
      if (agg === 'max') return Math.max(...numbers);
      if (agg === 'count') return numbers.length;
      return group.reduce((a, b) => (b.time > a.time ? b : a)).value;
    });
    return { metric, times: buckets.map(([start]) => start), values };
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('telemetry history REST API (plain PostgreSQL)', () => {
  let hub: TestHub;
  let device: ProvisionedDevice;
  const samples: Sample[] = [];
  // One hour of samples every 10 s, on whole hours three hours ago. temp in quarters, so averages are exact.
  const base = bucketStart(Date.now(), H) - 3 * H;
  const history = (deviceId: string, query: string) => hub.api('GET', `/api/v1/devices/${deviceId}/telemetry?${query}`);
  const hour = `from=${iso(base)}&to=${iso(base + H)}`;

  beforeAll(async () => {
    hub = await startTestHub();
    device = await provisionDevice(hub, 'greenhouse');
    for (let i = 0; i < 360; i++) {
      const time = base + i * 10 * S;
      samples.push({ metric: 'temp', time, value: i / 4 }, { metric: 'hum', time, value: (i * 37) % 101 });
    }
    await ingest(hub, device, samples);
  });
  afterAll(() => hub?.close());

  it('aggregates each bucket with avg, min, max, last and count', async () => {
    for (const agg of AGGS) {
      const answer = await history(device.id, `${hour}&bucket=1m&agg=${agg}`);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({
        deviceId: device.id,
        from: iso(base),
        to: iso(base + H),
        bucket: '1m',
        bucketMs: M,
        agg,
        tier: 'raw',
        coveredFrom: iso(base),
      });
      expect(answer.body.series, agg).toEqual(expectedSeries(samples, base, base + H, M, agg));
    }
    // The first minute of temp holds 0, 0.25, … 1.25.
    const first = async (agg: string) =>
      (await history(device.id, `${hour}&bucket=1m&agg=${agg}&metrics=temp`)).body.series[0].values[0];
    expect([
      await first('avg'),
      await first('min'),
      await first('max'),
      await first('last'),
      await first('count'),
    ]).toEqual([0.625, 0, 1.25, 1.25, 6]);
  });

  it('chooses a round bucket giving at most about 1,000 points when none is given', async () => {
    const answer = await history(device.id, hour);
    // 1 h: 1s would give 3,600 points, 5s gives 720.
    expect(answer.body).toMatchObject({ bucket: '5s', bucketMs: 5 * S, agg: 'avg' });
    expect(answer.body.series).toEqual(expectedSeries(samples, base, base + H, 5 * S, 'avg'));
    expect(answer.body.series[1].times).toHaveLength(360);

    const chosen = async (query: string) => (await history(device.id, query)).body.bucket;
    expect(await chosen('from=-15m')).toBe('1s');
    expect(await chosen('from=-24h')).toBe('5m');
    expect(await chosen('from=-7d')).toBe('15m');
    expect(await chosen('from=-30d')).toBe('1h');
    expect(await chosen('from=-365d')).toBe('12h');
  });

  it('covers whole buckets: the range widens to the buckets it touches', async () => {
    const answer = await history(device.id, `from=${iso(base + 90 * S)}&to=${iso(base + 150 * S)}&bucket=1m&agg=count`);
    expect(answer.body).toMatchObject({ from: iso(base + M), to: iso(base + 3 * M) });
    expect(answer.body.series[0]).toEqual({ metric: 'hum', times: [base + M, base + 2 * M], values: [6, 6] });
  });

  it('filters metrics, keeping the order named and an empty series for a metric without data', async () => {
    const metrics = async (query: string) =>
      (await history(device.id, `${hour}&bucket=10m&${query}`)).body.series.map(
        (series: { metric: string; times: number[] }) => [series.metric, series.times.length],
      );
    expect(await metrics('')).toEqual([
      ['hum', 6],
      ['temp', 6],
    ]);
    expect(await metrics('metrics=temp')).toEqual([['temp', 6]]);
    expect(await metrics('metrics=temp,nothing,hum')).toEqual([
      ['temp', 6],
      ['nothing', 0],
      ['hum', 6],
    ]);
    expect(await metrics('metrics=hum&metrics=temp')).toEqual([
      ['hum', 6],
      ['temp', 6],
    ]);
  });

  it('returns raw samples with bucket=raw', async () => {
    const answer = await history(device.id, `${hour}&bucket=raw&metrics=temp`);
    expect(answer.body).toMatchObject({ bucket: 'raw', bucketMs: 0, from: iso(base), to: iso(base + H) });
    const temp = samples.filter((sample) => sample.metric === 'temp');
    expect(answer.body.series).toEqual([
      { metric: 'temp', times: temp.map((s) => s.time), values: temp.map((s) => s.value) },
    ]);
  });

  it('reads times relative to now, from=-1h and to=now by default', async () => {
    const recent = await provisionDevice(hub, 'recent');
    const now = Date.now();
    await ingest(hub, recent, [
      { metric: 'temp', time: now - 50 * M, value: 1 },
      { metric: 'temp', time: now - 20 * M, value: 2 },
      { metric: 'temp', time: now - 5 * M, value: 3 },
    ]);
    const values = async (query: string) => (await history(recent.id, `bucket=raw&${query}`)).body.series[0]?.values;
    expect(await values('')).toEqual([1, 2, 3]);
    expect(await values('from=-30m')).toEqual([2, 3]);
    expect(await values('from=-1h&to=-10m')).toEqual([1, 2]);
    expect(await values('from=-10m&to=now')).toEqual([3]);
    const answer = await history(recent.id, 'bucket=raw');
    expect(Date.parse(answer.body.to) - Date.parse(answer.body.from)).toBe(H);
    expect(Math.abs(Date.parse(answer.body.to) - Date.now())).toBeLessThan(10 * S);
  });

  it('exports raw rows as CSV, metric by metric, oldest first', async () => {
    const response = await fetch(`${hub.baseUrl}/api/v1/devices/${device.id}/telemetry?${hour}&format=csv`, {
      headers: { Authorization: `Bearer ${hub.adminToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const stamp = (ms: number) => iso(ms).replace(/[-:]/g, '').replace(/\.\d+/, '');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="telemetry-${device.id}-${stamp(base)}-${stamp(base + H)}.csv"`,
    );
    const rows = parse(await response.text(), { columns: true }) as { time: string; metric: string; value: string }[];
    const expected = ['hum', 'temp'].flatMap((metric) => samples.filter((sample) => sample.metric === metric));
    expect(rows.map((row) => [Date.parse(row.time), row.metric, Number(row.value)])).toEqual(
      expected.map((sample) => [sample.time, sample.metric, sample.value]),
    );
    expect(rows[0]!.time).toBe(iso(base));
  });

  it('exports bucketed rows as CSV when a bucket is given, the same figures as JSON', async () => {
    const query = `${hour}&bucket=5m&agg=max&metrics=temp,hum`;
    const json = (await history(device.id, query)).body;
    const csv = await history(device.id, `${query}&format=csv`);
    expect(csv.headers.get('content-disposition')).toMatch(/-5m-max\.csv"$/);
    const rows = parse(csv.text, { columns: true }) as { time: string; metric: string; value: string }[];
    const fromJson = [...json.series]
      .sort((a, b) => a.metric.localeCompare(b.metric))
      .flatMap((series: { metric: string; times: number[]; values: number[] }) =>
        series.times.map((time, index) => [iso(time), series.metric, series.values[index]]),
      );
    expect(rows.map((row) => [row.time, row.metric, Number(row.value)])).toEqual(fromJson);
    expect(rows).toHaveLength(24);
  });

  it('prints the same averages in CSV as in JSON, to the last digit', async () => {
    // Values whose sum as floats depends on the order they are added in.
    const times = Array.from({ length: 720 }, (_, i) => base + i * 5 * S);
    await new TelemetryRepository(hub.database.client).insertBatch({
      times,
      deviceIds: times.map(() => device.id),
      metrics: times.map(() => 'odd'),
      values: times.map((_, i) => (i % 3 === 0 ? 1e15 : 0.1) * (i % 2 === 0 ? 1 : -1) + i / 7),
    });
    for (const bucket of ['30s', '5m', '1h']) {
      const query = `${hour}&bucket=${bucket}&agg=avg&metrics=odd`;
      const json = (await history(device.id, query)).body.series[0] as { times: number[]; values: number[] };
      const csv = await history(device.id, `${query}&format=csv`);
      const rows = parse(csv.text, { columns: true }) as { time: string; value: string }[];
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map((row) => `${row.time} ${row.value}`)).toEqual(
        json.times.map((time, index) => `${iso(time)} ${json.values[index]}`),
      );
    }
  });

  it('answers a CSV with no rows with the header alone', async () => {
    const csv = await history(device.id, `from=${iso(base - 2 * H)}&to=${iso(base - H)}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text).toBe('time,metric,value\n');
  });

  it('refuses bad input with a 400 naming the field', async () => {
    expect(validationFields(await history(device.id, 'from=-1h&to=-2h'))).toEqual(['from']);
    expect(validationFields(await history(device.id, 'from=now&to=now'))).toEqual(['from']);
    const bad = await history(device.id, 'from=yesterday');
    expect(validationFields(bad)).toEqual(['from']);
    expect(bad.body.errors[0].message).toMatch(/RFC 3339.*-15m, -1h, -7d, or now/);
    expect(validationFields(await history(device.id, 'to=2025-02-30T00:00:00Z'))).toEqual(['to']);
    expect(validationFields(await history(device.id, 'bucket=5x'))).toEqual(['bucket']);
    expect(validationFields(await history(device.id, 'bucket=0s'))).toEqual(['bucket']);
    expect(validationFields(await history(device.id, 'agg=median'))).toEqual(['agg']);
    expect(validationFields(await history(device.id, 'format=xml'))).toEqual(['format']);
    expect(validationFields(await history(device.id, 'metrics=te%20mp'))).toEqual(['metrics']);
    expect(validationFields(await history(device.id, 'limit=5'))).toEqual(['limit']);
    expect(validationFields(await history('not-a-uuid', ''))).toEqual(['deviceId']);
  });

  it('refuses a bucket giving more than TELEHUB_HISTORY_MAX_POINTS points per series, saying what to do', async () => {
    const problem = expectProblem(await history(device.id, 'from=-7d&bucket=1m'), 400, 'too_many_points');
    expect(problem.detail).toBe(
      'bucket 1m gives 10081 points per series over this range, more than 10000 (TELEHUB_HISTORY_MAX_POINTS): use a bucket of 5m or more, a shorter range, or format=csv; or leave bucket out to let the hub choose',
    );
    expect((await history(device.id, 'from=-6d&bucket=1m')).status).toBe(200);
    // CSV streams, so the points limit does not apply to it.
    expect((await history(device.id, 'from=-7d&bucket=1m&format=csv')).status).toBe(200);
  });

  it('answers 404 for an unknown device and 401 without an admin token', async () => {
    expectProblem(await history(UNKNOWN_ID, ''), 404, 'device_not_found');
    expectProblem(await history(UNKNOWN_ID, 'format=csv'), 404, 'device_not_found');
    const anonymous = await hub.api('GET', `/api/v1/devices/${device.id}/telemetry`, { auth: false });
    expectProblem(anonymous, 401, 'unauthorized');
  });

  it('is in the OpenAPI document with its query parameters and problems', async () => {
    const document = (await hub.api('GET', '/api/openapi.json', { auth: false })).body;
    const operation = document.paths['/api/v1/devices/{deviceId}/telemetry'].get;
    expect(operation.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'agg',
      'bucket',
      'deviceId',
      'format',
      'from',
      'metrics',
      'to',
    ]);
    expect(Object.keys(operation.responses['200'].content).sort()).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '404', '408', '429']);
    expect(document.components.schemas.TelemetryHistory.required).toEqual(
      expect.arrayContaining(['deviceId', 'from', 'to', 'bucket', 'bucketMs', 'agg', 'series']),
    );
    expect(Object.keys(document.paths['/api/v1/fleet/summary'].get.responses).sort()).toEqual([
      '200',
      '401',
      '408',
      '429',
    ]);
  });
});

describe('fleet summary after real ingest', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('counts devices, devices online, and messages and rows committed per second', async () => {
    expect((await hub.api('GET', '/api/v1/fleet/summary')).body).toEqual({
      devices: 0,
      online: 0,
      active: 0,
      messagesPerSecond: 0,
      rowsPerSecond: 0,
    });
    const [overMqtt, overHttp] = [await provisionDevice(hub, 'a'), await provisionDevice(hub, 'b')];
    await provisionDevice(hub, 'never-connected');
    const client = await mqtt.connectAsync(hub.mqttUrl, {
      username: overMqtt.id,
      password: overMqtt.token,
      reconnectPeriod: 0,
    });
    try {
      // 5 MQTT messages of 2 samples and 10 HTTP messages of 3: 15 messages, 40 rows.
      for (let i = 0; i < 5; i++) {
        await client.publishAsync('devices/me/telemetry', JSON.stringify({ temp: i, hum: i }), { qos: 1 });
      }
      for (let i = 0; i < 10; i++)
        await ingest(
          hub,
          overHttp,
          ['a', 'b', 'c'].map((metric) => ({ metric, time: Date.now(), value: i })),
        );
      // Rates count complete seconds: wait until the last commit's second has ended.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // Presence is recorded asynchronously.
      const summary = await eventually(async () => {
        const body = (await hub.api('GET', '/api/v1/fleet/summary')).body;
        return body.online === 1 ? body : undefined;
      });
      expect(summary).toMatchObject({ devices: 3, online: 1 });
      // Both rates divide by the same number of seconds (those since start, at most 60): 15 messages and 40 rows.
      const seconds = 15 / summary.messagesPerSecond;
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(Math.abs(seconds - Math.round(seconds))).toBeLessThan(1e-9);
      expect(summary.rowsPerSecond * seconds).toBeCloseTo(40, 9);
    } finally {
      await client.endAsync();
    }
    const offline = await eventually(async () => (await hub.api('GET', '/api/v1/fleet/summary')).body.online === 0);
    expect(offline).toBe(true);
  });
});
