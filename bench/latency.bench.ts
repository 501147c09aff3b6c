import { runRoundTrips } from './ceiling/db-ceiling.js';
import { HUB_ENV_FULL_LOAD } from './ingest.bench.js';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings } from './lib/benchmark.js';
import { formatCpu, formatInt, formatMs, formatRatio } from './lib/format.js';
import {
  closeAll,
  formatSpread,
  runRounds,
  type SubjectSummary,
  subjectNotes,
  summarize,
  windowFigures,
} from './lib/rounds.js';
import { openLoadSubject, type Subject, TELEMETRY_PAYLOAD, type WindowResult } from './lib/subjects.js';
import type { Table } from './lib/table.js';

/** The same devices and windows as the ingest bench; at half load the window is never what limits. */
const SETTINGS = {
  full: { devices: 100, window: 32, processes: 2, rounds: 3, warmupMs: 2_000, measureMs: 6_000, probeMs: 5_000 },
  quick: { devices: 20, window: 16, processes: 2, rounds: 1, warmupMs: 1_000, measureMs: 2_000, probeMs: 2_000 },
};
const HUB = 'telehub, MQTT QoS 1 (ack after commit)';
const AEDES = 'aedes, MQTT QoS 1 (stores nothing)';
/** The steady rate, as a share of the maximum measured in this run. */
const LOAD_SHARE = 0.5;
/** Nagle check: statement sizes (rows) timed with and without TCP_NODELAY, besides the hub's own batch size. */
const ROUND_TRIP = {
  full: { batchRows: [30, 300, 1_500, 5_000], samples: 100, intervalMs: 5 },
  quick: { batchRows: [300], samples: 10, intervalMs: 5 },
};
/** Target from the issue (reported, not enforced). */
const TARGET_P99_MS = 25;

export const latencyBench: Benchmark = {
  name: 'latency',
  title: 'Latency at a steady rate',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const load = {
    devices: settings.devices,
    window: settings.window,
    processes: settings.processes,
    hubEnv: HUB_ENV_FULL_LOAD,
    transport: 'mqtt' as const,
  };
  const notes: string[] = [];
  const subjects: Subject[] = [];
  let results: Map<string, WindowResult[]>;
  let maxRate = context.shared.hubMqttMaxMessagesPerSec;
  try {
    subjects.push(await openLoadSubject(context, { ...load, label: HUB, server: 'hub' }));
    subjects.push(await openLoadSubject(context, { ...load, label: AEDES, server: 'aedes' }));
    if (maxRate === undefined) {
      context.log('no ingest figure from this run: measuring the maximum first');
      const probe = await subjects[0]!.measureWindow({ warmupMs: settings.warmupMs, measureMs: settings.probeMs });
      maxRate = probe.ackedPerSec!;
      notes.push(`maximum measured by a ${settings.probeMs / 1000} s probe (run "ingest" first for a better one)`);
    }
    const ratePerSec = maxRate * LOAD_SHARE;
    results = await runRounds(context, subjects, settings.rounds, () => ({ ...settings, ratePerSec }));
  } catch (error) {
    await closeAll(subjects);
    throw error;
  }
  const finals = await closeAll(subjects);
  const rate = maxRate * LOAD_SHARE;
  const [hub, aedes] = subjects.map((subject) =>
    summarize(subject, results.get(subject.label)!, finals.get(subject.label)!),
  ) as [SubjectSummary, SubjectSummary];
  for (const summary of [hub, aedes]) {
    const achieved = (summary.ackedPerSec?.median ?? 0) / rate;
    if (summary.lateSends > 0 || achieved < 0.95) {
      notes.push(
        `${summary.label}: ${formatRatio(achieved)} of the target rate acknowledged, ${formatInt(summary.lateSends)} publishes left over 5 ms late: the load was not steady`,
      );
    }
  }
  notes.push(...subjectNotes([hub, aedes]));

  const roundTrip = context.quick ? ROUND_TRIP.quick : ROUND_TRIP.full;
  const hubBatch = Math.round(hub.ingest?.meanBatchRows ?? 0);
  const batchRows = [...new Set([...(hubBatch > 0 ? [hubBatch] : []), ...roundTrip.batchRows])].sort((a, b) => a - b);
  context.log(`Nagle check: ${batchRows.join(', ')} rows per statement`);
  const nagle = await runRoundTrips(context, { ...roundTrip, batchRows, devices: settings.devices });

  return {
    settings: {
      ...settings,
      payload: TELEMETRY_PAYLOAD,
      maxRatePerSec: maxRate,
      loadShare: LOAD_SHARE,
      ratePerSec: rate,
      roundTrip: { ...roundTrip, batchRows },
      hub: effectiveHubSettings(HUB_ENV_FULL_LOAD),
    },
    figures: { hub, aedes, nagle, windows: windowFigures(results) },
    tables: [latencyTable(settings, rate, maxRate, hub, aedes), nagleTable(nagle, hubBatch)],
    targets: [
      {
        target: `hub PUBACK p99 < ${TARGET_P99_MS} ms at half load`,
        measured: `${formatMs(hub.latency.p99Ms)} ms`,
        met: Number.isFinite(hub.latency.p99Ms) ? hub.latency.p99Ms < TARGET_P99_MS : undefined,
      },
    ],
    notes,
  };
}

function latencyTable(
  settings: (typeof SETTINGS)['full'],
  rate: number,
  maxRate: number,
  hub: SubjectSummary,
  aedes: SubjectSummary,
): Table {
  const row = (label: string, result: SubjectSummary) => [
    label,
    formatSpread(result.ackedPerSec),
    formatMs(result.latency.p50Ms),
    formatMs(result.latency.p90Ms),
    formatMs(result.latency.p99Ms),
    formatMs(result.latency.p999Ms),
    formatMs(result.latency.maxMs),
    formatCpu(result.serverCpuCores),
    result.databaseCpuCores === undefined ? '–' : formatCpu(result.databaseCpuCores),
    formatCpu(result.generatorCpuCores ?? Number.NaN),
    formatCpu(result.otherCpuCores),
    formatInt(result.lateSends),
  ];
  const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)}×` : '–');
  const ingest = hub.ingest;
  return {
    title:
      `Latency: MQTT QoS 1 paced at ${formatInt(rate)} msg/s (${LOAD_SHARE * 100} % of the ${formatInt(maxRate)} msg/s maximum), ` +
      `${settings.rounds} rounds of ${settings.measureMs / 1000} s`,
    columns: [
      'Run',
      'msg/s acked',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'server CPU',
      'DB CPU',
      'generator CPU',
      'other CPU',
      'late sends',
    ],
    rows: [
      row(hub.label, hub),
      row(aedes.label, aedes),
      [
        'telehub ÷ aedes',
        '',
        times(hub.latency.p50Ms / aedes.latency.p50Ms),
        times(hub.latency.p90Ms / aedes.latency.p90Ms),
        times(hub.latency.p99Ms / aedes.latency.p99Ms),
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ],
    ],
    notes: [
      ingest
        ? `telehub (its /metrics): ${formatInt(ingest.batchesPerSec)} batches/s of ${formatInt(ingest.meanBatchRows)} rows on average; ` +
          `commit mean ${formatMs(ingest.meanFlushMs)} ms, p99 ≤ ${formatMs(ingest.flushP99Ms)} ms; event-loop delay p99 ${formatMs(ingest.eventLoopLagP99Ms)} ms.`
        : 'telehub batch figures unavailable.',
      'Latency: PUBLISH sent → PUBACK received, over all rounds. late sends: publishes sent more than 5 ms after their turn.',
      'other CPU: everything else the machine ran meanwhile; on a shared machine it delays every process here.',
    ],
  };
}

function nagleTable(results: Awaited<ReturnType<typeof runRoundTrips>>, hubBatch: number): Table {
  return {
    title: "Nagle's algorithm on the database socket: one insertBatchWithLatest statement, round trip",
    columns: [
      'rows/statement',
      'p50 Nagle',
      'p50 nodelay (hub)',
      'p99 Nagle',
      'p99 nodelay (hub)',
      'mean Nagle',
      'mean nodelay (hub)',
    ],
    rows: results.map((result) => [
      `${formatInt(result.batchRows)}${result.batchRows === hubBatch ? ' (hub at half load)' : ''}`,
      formatMs(result.nagle.p50Ms),
      formatMs(result.noDelay.p50Ms),
      formatMs(result.nagle.p99Ms),
      formatMs(result.noDelay.p99Ms),
      formatMs(result.nagle.meanMs),
      formatMs(result.noDelay.meanMs),
    ]),
    notes: [
      "Milliseconds. Statements alternate between the hub's own client (TCP_NODELAY, libs/db noDelaySocketFactory) and postgres.js's own sockets (Nagle on).",
      'The INSERT statement is one write per statement, where Nagle costs little; the COPY write (data, then CopyDone) is what made TCP_NODELAY necessary (bench/README.md).',
    ],
  };
}
