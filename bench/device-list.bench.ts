import { loadavg } from 'node:os';
import { createDatabaseClient, DeviceActivityRepository } from '@telehub/db';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings } from './lib/benchmark.js';
import { formatInt, formatMs } from './lib/format.js';
import { LatencyHistogram, type LatencySummary } from './lib/histogram.js';
import { launchHub } from './lib/hub-launcher.js';
import type { Table } from './lib/table.js';

/**
 * The device list API over a fleet of 100,000 devices: provisioned through the bulk API (as an operator would),
 * then given presence, last-seen times and latest values in SQL, as a fleet that has run for a week looks:
 * 30 % connected, 20 % active without a session (HTTP devices, short sessions), the rest offline, 10 % of those
 * never seen; four metrics per device seen. Each typical dashboard request is timed from the client, one at a
 * time (a dashboard user), then the dashboard's first page by 4 users at once.
 */
const SETTINGS = {
  full: { devices: 100_000, requests: 300, warmup: 20, concurrentUsers: 4, sweeps: 20 },
  quick: { devices: 10_000, requests: 30, warmup: 5, concurrentUsers: 4, sweeps: 3 },
};
/** Target from the issue (reported, not enforced). */
const TARGET_P99_MS = 100;
const PAGE = 50;
const HUB_ENV: Record<string, string> = { TELEHUB_LOG_LEVEL: 'info' };

interface QuerySpec {
  name: string;
  /** What a dashboard asks for; the others are worst cases, reported beside the target. */
  typical: boolean;
  /** Query string after `?`; a function gets what the seeding left (an id to search for, a deep cursor). */
  query: string | ((fleet: Fleet) => string);
}

interface Fleet {
  /** A device id, whose middle part is searched for. */
  someId: string;
  /** The cursor of page 20 sorted by -lastSeen: keyset pages cost the same however deep. */
  deepCursor: string;
}

const typical = (name: string, query: QuerySpec['query']): QuerySpec => ({ name, typical: true, query });
const worstCase = (name: string, query: QuerySpec['query']): QuerySpec => ({ name, typical: false, query });

const QUERIES: QuerySpec[] = [
  typical('dashboard first page: sort=name, latest values', `limit=${PAGE}&sort=name&latest=true`),
  typical(
    'online (connected or active), sort=name, latest',
    `limit=${PAGE}&sort=name&status=connected&status=active&latest=true`,
  ),
  typical('offline, least recently seen first', `limit=${PAGE}&status=offline&sort=lastSeen`),
  typical('most recently seen first, latest values', `limit=${PAGE}&sort=-lastSeen&latest=true`),
  typical(
    'page 21, most recently seen first (cursor)',
    (fleet) => `limit=${PAGE}&sort=-lastSeen&cursor=${fleet.deepCursor}`,
  ),
  typical('one label (1 % of the fleet), sort=name', `limit=${PAGE}&label=site:42&sort=name&latest=true`),
  typical('name substring "-4200"', `limit=${PAGE}&search=-4200&sort=name&latest=true`),
  typical('name substring "sensor" (matches all)', `limit=${PAGE}&search=sensor&sort=name`),
  typical('id piece (8 hex digits)', (fleet) => `limit=${PAGE}&search=${fleet.someId.slice(24, 32)}`),
  typical('API default: creation order, 100 per page', 'limit=100'),
  worstCase('two-letter substring "42" (no trigram to look up)', `limit=${PAGE}&search=42&sort=name`),
  worstCase('newest first, 1,000 per page, latest values', 'limit=1000&sort=-created&latest=true'),
];

export const deviceListBench: Benchmark = {
  name: 'device-list',
  title: 'Device list API over a fleet',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const notes: string[] = [];
  const database = await context.postgres.freshDatabase('device_list');
  const hub = await launchHub({ databaseUrl: database.url, env: HUB_ENV });
  const client = createDatabaseClient(database.url, { maxConnections: 1, applicationName: 'telehub-bench' });
  try {
    let started = performance.now();
    await hub.provision(settings.devices, 'sensor');
    const provisionSeconds = (performance.now() - started) / 1000;
    context.log(`${formatInt(settings.devices)} devices provisioned in ${provisionSeconds.toFixed(1)} s (bulk API)`);
    started = performance.now();
    await seedFleet(client.sql);
    context.log(
      `presence, last-seen times and latest values seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    const fleet = await fleetFacts(hub.baseUrl, hub.adminToken);
    const rows: string[][] = [];
    const figures: Record<string, LatencySummary & { matching: number }> = {};
    for (const spec of QUERIES) {
      const query = typeof spec.query === 'string' ? spec.query : spec.query(fleet);
      const { histogram, matching } = await measure(hub.baseUrl, hub.adminToken, query, settings, 1);
      const summary = histogram.summary();
      figures[spec.name] = { ...summary, matching };
      rows.push([
        spec.typical ? spec.name : `${spec.name} *`,
        formatInt(matching),
        formatMs(summary.p50Ms),
        formatMs(summary.p99Ms),
        formatMs(summary.maxMs),
      ]);
      context.log(`${spec.name}: p50 ${formatMs(summary.p50Ms)} ms, p99 ${formatMs(summary.p99Ms)} ms`);
    }
    const concurrent = await measure(
      hub.baseUrl,
      hub.adminToken,
      QUERIES[0]!.query as string,
      settings,
      settings.concurrentUsers,
    );
    const concurrentSummary = concurrent.histogram.summary();
    const concurrentName = `dashboard first page, ${settings.concurrentUsers} users at once`;
    figures[concurrentName] = { ...concurrentSummary, matching: concurrent.matching };
    rows.push([
      concurrentName,
      formatInt(concurrent.matching),
      formatMs(concurrentSummary.p50Ms),
      formatMs(concurrentSummary.p99Ms),
      formatMs(concurrentSummary.maxMs),
    ]);

    const sweep = await timeIdleSweep(client, settings.sweeps);
    const tables: Table[] = [
      {
        title: `GET /api/v1/devices over ${formatInt(settings.devices)} devices (${PAGE} per page unless said; ms, from the client)`,
        columns: ['Request', 'Matching', 'p50', 'p99', 'max'],
        rows,
        notes: [
          `${settings.requests} requests each after ${settings.warmup} unmeasured, one at a time; the last row: ${settings.concurrentUsers} clients in parallel. *: a worst case, not a typical request.`,
          'Every answer holds the totals per status over all matching devices (a second query, run beside the page).',
          `Activity sweep with nothing to flip (the hub runs it every TELEHUB_ACTIVITY_CHECK_INTERVAL_MS): p50 ${formatMs(sweep.p50Ms)} ms, max ${formatMs(sweep.maxMs)} ms.`,
          `Provisioning ${formatInt(settings.devices)} devices through the bulk API took ${provisionSeconds.toFixed(1)} s.`,
        ],
      },
    ];
    const worst = Math.max(...QUERIES.filter((spec) => spec.typical).map((spec) => figures[spec.name]!.p99Ms));
    const load = loadavg()[0]!;
    return {
      settings: { ...settings, pageSize: PAGE, hub: effectiveHubSettings(HUB_ENV) },
      figures: { requests: figures, idleSweep: sweep, provisionSeconds },
      tables,
      targets: [
        {
          target: `list API p99 < ${TARGET_P99_MS} ms, typical requests, one user (${formatInt(settings.devices)} devices)`,
          measured: `worst p99 ${formatMs(worst)} ms (load average ${load.toFixed(1)})`,
          met: worst < TARGET_P99_MS,
        },
      ],
      notes,
    };
  } finally {
    await client.close();
    await hub.stop();
    await database.drop();
  }
}

/**
 * A fleet after a week: by position in creation order, 3 in 10 connected (seen within the last minute), 2 in
 * 10 active without a session (seen within the last 8 minutes, inside the default 10-minute timeout), the rest
 * offline (seen 1 to 7 days ago, a tenth of them never). Labels: a site (100 of them) and a kind. The `active`
 * column is what the sweeper would decide, so it has nothing to flip while the requests are measured.
 */
async function seedFleet(sql: ReturnType<typeof createDatabaseClient>['sql']): Promise<void> {
  await sql`
    WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM devices)
    UPDATE devices AS d SET
      labels = ARRAY['site:' || (n.i % 100), 'kind:' || (ARRAY['temp', 'hum', 'door', 'meter'])[1 + n.i % 4]],
      online = n.i % 10 < 3,
      active = n.i % 10 < 5,
      transport = CASE WHEN n.i % 10 < 3 THEN 'mqtt' END,
      connected_node = CASE WHEN n.i % 10 < 3 THEN 'bench-node' END,
      connected_at = CASE WHEN n.i % 10 < 3 THEN now() - interval '1 hour' END
    FROM numbered AS n WHERE d.id = n.id`;
  await sql`
    WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM devices)
    UPDATE device_last_seen AS s SET
      last_seen_at = CASE
        WHEN n.i % 10 < 3 THEN now() - (n.i % 60) * interval '1 second'
        WHEN n.i % 10 < 5 THEN now() - (n.i % 480) * interval '1 second'
        WHEN n.i % 100 >= 90 THEN NULL
        ELSE now() - interval '1 day' - (n.i % 518400) * interval '1 second'
      END
    FROM numbered AS n WHERE s.device_id = n.id`;
  await sql`
    INSERT INTO device_latest (device_id, metric, time, value)
    SELECT s.device_id, m.metric, s.last_seen_at, random() * 100
    FROM device_last_seen AS s CROSS JOIN (VALUES ('temp'), ('hum'), ('battery'), ('rssi')) AS m (metric)
    WHERE s.last_seen_at IS NOT NULL`;
  // As autovacuum would have, in a fleet that has run for a while.
  await sql`VACUUM ANALYZE devices`;
  await sql`VACUUM ANALYZE device_last_seen`;
  await sql`VACUUM ANALYZE device_latest`;
}

async function fleetFacts(baseUrl: string, token: string): Promise<Fleet> {
  const first = await list(baseUrl, token, 'limit=1');
  const someId = (first.items as { id: string }[])[0]!.id;
  let cursor = '';
  for (let page = 0; page < 20; page += 1) {
    const answer = await list(baseUrl, token, `limit=${PAGE}&sort=-lastSeen${cursor ? `&cursor=${cursor}` : ''}`);
    cursor = answer.nextCursor as string;
  }
  return { someId, deepCursor: cursor };
}

async function list(baseUrl: string, token: string, query: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}/api/v1/devices?${query}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok)
    throw new Error(`GET /api/v1/devices?${query} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

async function measure(
  baseUrl: string,
  token: string,
  query: string,
  settings: { requests: number; warmup: number },
  users: number,
): Promise<{ histogram: LatencyHistogram; matching: number }> {
  const histogram = new LatencyHistogram();
  let matching = 0;
  const user = async () => {
    for (let i = 0; i < settings.warmup + Math.ceil(settings.requests / users); i += 1) {
      const started = performance.now();
      const answer = await list(baseUrl, token, query);
      const elapsed = performance.now() - started;
      matching = (answer.totals as { matching: number }).matching;
      if (i >= settings.warmup) histogram.record(elapsed);
    }
  };
  await Promise.all(Array.from({ length: users }, user));
  return { histogram, matching };
}

/** The sweeper's statement when no device changed: what checking activity costs the database. */
async function timeIdleSweep(client: ReturnType<typeof createDatabaseClient>, sweeps: number): Promise<LatencySummary> {
  const activity = new DeviceActivityRepository(client);
  const histogram = new LatencyHistogram();
  for (let i = 0; i < sweeps; i += 1) {
    const started = performance.now();
    await activity.sweep(600, 1000);
    histogram.record(performance.now() - started);
  }
  return histogram.summary();
}
