import { createDatabaseClient, DeviceRateRepository } from '@telehub/db';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings } from './lib/benchmark.js';
import { formatInt, formatMs } from './lib/format.js';
import { LatencyHistogram, type LatencySummary } from './lib/histogram.js';
import { type LaunchedHub, launchHub, type ProvisionedDevice } from './lib/hub-launcher.js';
import type { Table } from './lib/table.js';

/**
 * What the per-device HTTP rate budget shared by the hub processes costs a device request: one hub keeps the budget
 * in the database (one statement per request, the default), the other only in its process
 * (TELEHUB_HTTP_RATE_SHARED=false), on one database, measured in alternating rounds of the same run. Devices post
 * one telemetry object at a time each, several devices at once; the rate limit is set far above what they send, so
 * every request is admitted and the figure is the check's cost, not refusals.
 */
const SETTINGS = {
  full: { devices: 16, rounds: 4, roundMs: 5_000, warmupMs: 1_000, statements: 2_000 },
  quick: { devices: 4, rounds: 2, roundMs: 1_000, warmupMs: 300, statements: 200 },
};
const HUB_ENV: Record<string, string> = {
  TELEHUB_LOG_LEVEL: 'info',
  TELEHUB_DEVICE_RATE_PER_SEC: '100000',
  TELEHUB_DEVICE_RATE_BURST: '100000',
};
const SUBJECTS = [
  { label: 'budget per process (TELEHUB_HTTP_RATE_SHARED=false)', env: { TELEHUB_HTTP_RATE_SHARED: 'false' } },
  { label: 'budget shared in PostgreSQL (default)', env: { TELEHUB_HTTP_RATE_SHARED: 'true' } },
];

export const httpRateBench: Benchmark = {
  name: 'http-rate',
  title: 'HTTP device requests: the shared per-device rate budget',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const database = await context.postgres.freshDatabase('http_rate');
  const hubs: LaunchedHub[] = [];
  try {
    for (const subject of SUBJECTS) {
      hubs.push(await launchHub({ databaseUrl: database.url, env: { ...HUB_ENV, ...subject.env } }));
    }
    // Through the hub started last: each launch sets TELEHUB_ADMIN_TOKEN anew, which revokes the previous one.
    const devices = await hubs.at(-1)!.provision(settings.devices, 'http');
    const histograms = SUBJECTS.map(() => new LatencyHistogram());
    const requests = SUBJECTS.map(() => 0);
    const seconds = SUBJECTS.map(() => 0);
    for (let round = 0; round < settings.rounds; round++) {
      // Alternating which goes first, so neither always runs on a warmer database.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) {
        await postFor(hubs[index]!, devices, settings.warmupMs, new LatencyHistogram());
        const done = await postFor(hubs[index]!, devices, settings.roundMs, histograms[index]!);
        requests[index]! += done;
        seconds[index]! += settings.roundMs / 1000;
      }
      context.log(`round ${round + 1}/${settings.rounds} done`);
    }
    const statement = await statementCost(database.url, devices, settings.statements);
    const summaries = histograms.map((histogram) => histogram.summary());
    const [local, shared] = summaries as [LatencySummary, LatencySummary];
    const table: Table = {
      title: `${settings.devices} devices posting one telemetry object at a time each, ${settings.rounds} alternating rounds of ${settings.roundMs / 1000} s`,
      columns: ['per-device budget', 'requests/s', 'mean ms', 'p50 ms', 'p99 ms'],
      rows: SUBJECTS.map((subject, index) => [
        subject.label,
        formatInt(requests[index]! / seconds[index]!),
        formatMs(summaries[index]!.meanMs),
        formatMs(summaries[index]!.p50Ms),
        formatMs(summaries[index]!.p99Ms),
      ]),
      notes: [
        `cost of the shared budget per request: ${formatMs(shared.meanMs - local.meanMs)} ms mean, ${formatMs(shared.p50Ms - local.p50Ms)} ms p50 (same run, same database)`,
      ],
    };
    const statementTable: Table = {
      title: `The budget's statement alone: ${formatInt(settings.statements)} one after another on one connection, beside SELECT 1`,
      columns: ['statement', 'p50 ms', 'p99 ms'],
      rows: [
        ['SELECT 1 (a round trip)', formatMs(statement.roundTrip.p50Ms), formatMs(statement.roundTrip.p99Ms)],
        ['device_rate_buckets upsert', formatMs(statement.take.p50Ms), formatMs(statement.take.p99Ms)],
      ],
    };
    return {
      settings: { ...settings, hub: effectiveHubSettings(HUB_ENV), subjects: SUBJECTS },
      figures: {
        subjects: SUBJECTS.map((subject, index) => ({
          label: subject.label,
          requestsPerSec: requests[index]! / seconds[index]!,
          latency: summaries[index],
        })),
        sharedCostMeanMs: shared.meanMs - local.meanMs,
        sharedCostP50Ms: shared.p50Ms - local.p50Ms,
        statement,
      },
      tables: [table, statementTable],
      targets: [],
      notes: hubs.flatMap((hub) => hub.warnings),
    };
  } finally {
    await Promise.all(hubs.map((hub) => hub.stop().catch(() => undefined)));
    await database.drop().catch(() => undefined);
  }
}

/** Each device posts one request after another for `ms`; answers how many were answered 200. */
async function postFor(
  hub: LaunchedHub,
  devices: ProvisionedDevice[],
  ms: number,
  histogram: LatencyHistogram,
): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    devices.map(async (device, index) => {
      let n = index;
      while (performance.now() < until) {
        const started = performance.now();
        const response = await fetch(`${hub.baseUrl}/api/v1/device/telemetry`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${device.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ temp: n++ % 100 }),
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${hub.baseUrl}`);
        histogram.record(performance.now() - started);
        done += 1;
      }
    }),
  );
  return done;
}

/** The shared budget's statement timed alone, beside a bare round trip, on a connection like the hub's. */
async function statementCost(
  url: string,
  devices: ProvisionedDevice[],
  count: number,
): Promise<{ roundTrip: LatencySummary; take: LatencySummary }> {
  const client = createDatabaseClient(url, { maxConnections: 1, synchronousCommit: false });
  try {
    const repository = new DeviceRateRepository(client);
    const roundTrip = new LatencyHistogram();
    const take = new LatencyHistogram();
    for (let n = 0; n < count; n++) {
      let started = performance.now();
      await client.sql`SELECT 1`;
      roundTrip.record(performance.now() - started);
      started = performance.now();
      await repository.take(devices[n % devices.length]!.id, 100_000, 100_000);
      take.record(performance.now() - started);
    }
    return { roundTrip: roundTrip.summary(), take: take.summary() };
  } finally {
    await client.close();
  }
}
