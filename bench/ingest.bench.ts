import { openCeilingSubject } from './ceiling/db-ceiling.js';
import type { CeilingMethod } from './ceiling/db-ceiling.worker.js';
import { type BenchContext, type Benchmark, type BenchReport, effectiveHubSettings } from './lib/benchmark.js';
import { formatBytes, formatCpu, formatInt, formatMs } from './lib/format.js';
import {
  closeAll,
  formatRatioSpread,
  formatSpread,
  formatTimesSpread,
  ratioSpread,
  runRounds,
  type Spread,
  type SubjectSummary,
  subjectNotes,
  summarize,
  windowFigures,
} from './lib/rounds.js';
import {
  openLoadSubject,
  type Subject,
  TELEMETRY_METRICS,
  TELEMETRY_PAYLOAD,
  type WindowResult,
} from './lib/subjects.js';
import type { Table } from './lib/table.js';

/** Sizes and durations: the full run, and --quick (a smoke check). Each subject is measured `rounds` times. */
const SETTINGS = {
  full: { devices: 100, window: 32, processes: 2, rounds: 3, warmupMs: 2_000, measureMs: 6_000 },
  quick: { devices: 20, window: 16, processes: 2, rounds: 1, warmupMs: 1_000, measureMs: 2_000 },
};

/**
 * What the bench changes in the hub: the per-device rate limit (100 msg/s by default) would otherwise be
 * what is measured. Everything else, batching included, stays at the hub's defaults.
 */
export const HUB_ENV_FULL_LOAD: Record<string, string> = {
  TELEHUB_DEVICE_RATE_PER_SEC: '1000000',
  TELEHUB_DEVICE_RATE_BURST: '1000000',
  TELEHUB_LOG_LEVEL: 'info',
};

/** Targets from the issue (reported, not enforced). */
const TARGET_SHARE_OF_CEILING = 0.8;
const TARGET_SHARE_OF_AEDES = 0.5;
const TARGET_CPU_PER_MESSAGE_VS_AEDES = 1.5;
/** The generator counts as fast enough when it drove aedes at least this many times the hub's rate. */
const GENERATOR_HEADROOM = 1.5;

const HUB_MQTT = 'telehub, MQTT QoS 1';
const HUB_MQTT_COPY = 'telehub, MQTT QoS 1, COPY write';
const HUB_WS = 'telehub, JSON WebSocket';
const HUB_MQTT_COMPARED = 'telehub, MQTT QoS 1, compared build (--compare-hub)';
const AEDES = 'aedes, MQTT QoS 1 (stores nothing)';
const COPY_BINARY_1 = 'COPY binary ×1';
const COPY_BINARY_2 = 'COPY binary ×2';
const COPY_TEXT_2 = 'COPY text ×2';
const COPY_BINARY_NO_INDEX = 'COPY binary ×2, without the read index';
const HUB_WRITE_COPY = "hub's COPY write alone ×2";
const HUB_WRITE_STATEMENT = "hub's INSERT statement alone ×2";
/** The true ceiling of a round: the best of these (the same table, index and all, as the hub's). */
const COPY_CEILINGS = [COPY_BINARY_1, COPY_BINARY_2, COPY_TEXT_2];

export const ingestBench: Benchmark = {
  name: 'ingest',
  title: 'Ingest at full load',
  run,
};

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const hubSettings = effectiveHubSettings(HUB_ENV_FULL_LOAD);
  const { batchRows: largestBatch, maxInflight } = hubSettings.ingest as { batchRows: number; maxInflight: number };
  const load = {
    devices: settings.devices,
    window: settings.window,
    processes: settings.processes,
    hubEnv: HUB_ENV_FULL_LOAD,
  };
  const ceiling = { devices: settings.devices, batchRows: () => largestBatch };
  const formedBatches: number[] = [];

  const subjects: Subject[] = [];
  let results: Map<string, WindowResult[]>;
  const checkpointsBefore = await context.postgres.checkpoints();
  try {
    subjects.push(await openLoadSubject(context, { ...load, label: HUB_MQTT, server: 'hub', transport: 'mqtt' }));
    // The same hub writing with COPY (opt-in, TELEHUB_INGEST_WRITE_METHOD=copy) against its default INSERT
    // statement: the A/B of the write method, in the same rounds.
    subjects.push(
      await openLoadSubject(context, {
        ...load,
        hubEnv: { ...HUB_ENV_FULL_LOAD, TELEHUB_INGEST_WRITE_METHOD: 'copy' },
        label: HUB_MQTT_COPY,
        server: 'hub',
        transport: 'mqtt',
      }),
    );
    subjects.push(await openLoadSubject(context, { ...load, label: HUB_WS, server: 'hub', transport: 'ws' }));
    if (context.compareHub) {
      subjects.push(
        await openLoadSubject(context, {
          ...load,
          label: HUB_MQTT_COMPARED,
          server: 'hub',
          transport: 'mqtt',
          hubMain: context.compareHub.main,
        }),
      );
    }
    subjects.push(await openLoadSubject(context, { ...load, label: AEDES, server: 'aedes', transport: 'mqtt' }));
    const ceilings: [string, CeilingMethod, number, boolean?][] = [
      [COPY_BINARY_1, 'copy-binary', 1],
      [COPY_BINARY_2, 'copy-binary', 2],
      [COPY_TEXT_2, 'copy-text', 2],
      [COPY_BINARY_NO_INDEX, 'copy-binary', 2, true],
      [HUB_WRITE_COPY, 'hub-copy', maxInflight],
      [HUB_WRITE_STATEMENT, 'hub-statement', maxInflight],
    ];
    for (const [label, method, concurrency, withoutIndex] of ceilings) {
      subjects.push(await openCeilingSubject(context, { ...ceiling, label, method, concurrency, withoutIndex }));
    }
    results = await runRounds(
      context,
      subjects,
      settings.rounds,
      () => settings,
      (subject, result) => {
        if (subject.label !== HUB_MQTT || !result.ingest || !Number.isFinite(result.ingest.meanBatchRows)) return;
        formedBatches.push(Math.round(result.ingest.meanBatchRows));
      },
    );
  } catch (error) {
    await closeAll(subjects);
    throw error;
  }
  const checkpointsAfter = await context.postgres.checkpoints();
  const checkpoints = {
    timed: checkpointsAfter.timed - checkpointsBefore.timed,
    requested: checkpointsAfter.requested - checkpointsBefore.requested,
  };
  const finals = await closeAll(subjects);
  const summaries = new Map(
    subjects.map((subject) => [
      subject.label,
      summarize(subject, results.get(subject.label)!, finals.get(subject.label)!),
    ]),
  );
  const summary = (label: string) => summaries.get(label)!;
  const windows = (label: string) => results.get(label)!;

  // Per round, the ceiling is the best COPY of that round; ratios pair figures of the same round.
  const ceilingWindows: WindowResult[] = windows(COPY_BINARY_1).map((_, round) =>
    COPY_CEILINGS.map((label) => windows(label)[round]!).reduce((best, next) =>
      (next.rowsPerSec ?? 0) > (best.rowsPerSec ?? 0) ? next : best,
    ),
  );
  const rows = (result: WindowResult) => result.rowsPerSec;
  const messages = (result: WindowResult) => result.ackedPerSec;
  // The server's CPU per acknowledged message (core-seconds): what issue 16 item 3 compares with aedes.
  const cpuPerMessage = (result: WindowResult) => result.serverCpuCores / (result.ackedPerSec ?? Number.NaN);
  const compared: Record<string, Spread> = context.compareHub
    ? {
        mqttVsCompared: ratioSpread(windows(HUB_MQTT), windows(HUB_MQTT_COMPARED), messages),
        mqttCpuPerMessageVsCompared: ratioSpread(windows(HUB_MQTT), windows(HUB_MQTT_COMPARED), cpuPerMessage),
        comparedCpuPerMessageVsAedes: ratioSpread(windows(HUB_MQTT_COMPARED), windows(AEDES), cpuPerMessage),
      }
    : {};
  const ratios = {
    mqttVsCeiling: ratioSpread(windows(HUB_MQTT), ceilingWindows, rows),
    mqttCopyVsCeiling: ratioSpread(windows(HUB_MQTT_COPY), ceilingWindows, rows),
    mqttCopyVsInsert: ratioSpread(windows(HUB_MQTT_COPY), windows(HUB_MQTT), rows),
    mqttVsHubWrite: ratioSpread(windows(HUB_MQTT), windows(HUB_WRITE_COPY), rows),
    hubCopyWriteVsCeiling: ratioSpread(windows(HUB_WRITE_COPY), ceilingWindows, rows),
    hubStatementVsCeiling: ratioSpread(windows(HUB_WRITE_STATEMENT), ceilingWindows, rows),
    hubCopyWriteVsStatement: ratioSpread(windows(HUB_WRITE_COPY), windows(HUB_WRITE_STATEMENT), rows),
    copyTextVsBinary: ratioSpread(windows(COPY_TEXT_2), windows(COPY_BINARY_2), rows),
    copyTwoVsOne: ratioSpread(windows(COPY_BINARY_2), windows(COPY_BINARY_1), rows),
    withoutIndexVsWith: ratioSpread(windows(COPY_BINARY_NO_INDEX), windows(COPY_BINARY_2), rows),
    mqttVsAedes: ratioSpread(windows(HUB_MQTT), windows(AEDES), messages),
    mqttCpuPerMessageVsAedes: ratioSpread(windows(HUB_MQTT), windows(AEDES), cpuPerMessage),
    wsVsCeiling: ratioSpread(windows(HUB_WS), ceilingWindows, rows),
    wsVsAedes: ratioSpread(windows(HUB_WS), windows(AEDES), messages),
    // The most any durable server could reach here: the ceiling's rows as messages, against aedes.
    ceilingVsAedes: ratioSpread(
      ceilingWindows.map((result) => ({
        ...result,
        ackedPerSec: (result.rowsPerSec ?? Number.NaN) / TELEMETRY_METRICS.length,
      })),
      windows(AEDES),
      messages,
    ),
    ...compared,
  };
  context.shared.hubMqttMaxMessagesPerSec = summary(HUB_MQTT).ackedPerSec?.median;

  const met = (ratio: Spread, target: number) => (Number.isFinite(ratio.median) ? ratio.median >= target : undefined);
  return {
    settings: {
      ...settings,
      payload: TELEMETRY_PAYLOAD,
      rowsPerMessage: TELEMETRY_METRICS.length,
      qos: 1,
      ceiling: { batchRows: largestBatch, hubWriteConcurrency: maxInflight, hubBatchRowsByRound: formedBatches },
      hub: hubSettings,
    },
    figures: { subjects: Object.fromEntries(summaries), ratios, checkpoints, windows: windowFigures(results) },
    tables: [
      throughputTable(settings, [...summaries.values()], formedBatches, maxInflight, largestBatch),
      ratioTable(ratios),
      hubInternalsTable([summary(HUB_MQTT), summary(HUB_MQTT_COPY), summary(HUB_WS)]),
      lockWaitTable(
        subjects.map((subject) => subject.label).filter((label) => label !== AEDES),
        windows,
      ),
    ],
    targets: [
      {
        target: `hub MQTT rows/s ≥ ${TARGET_SHARE_OF_CEILING * 100} % of the database ceiling (COPY)`,
        measured: formatRatioSpread(ratios.mqttVsCeiling),
        met: met(ratios.mqttVsCeiling, TARGET_SHARE_OF_CEILING),
      },
      {
        target: `hub MQTT msg/s ≥ ${TARGET_SHARE_OF_AEDES * 100} % of aedes (QoS 1, stores nothing)`,
        measured: formatRatioSpread(ratios.mqttVsAedes),
        met: met(ratios.mqttVsAedes, TARGET_SHARE_OF_AEDES),
      },
      {
        target: `hub CPU per acknowledged MQTT message ≤ ${TARGET_CPU_PER_MESSAGE_VS_AEDES}× aedes's`,
        measured: formatTimesSpread(ratios.mqttCpuPerMessageVsAedes),
        met: Number.isFinite(ratios.mqttCpuPerMessageVsAedes.median)
          ? ratios.mqttCpuPerMessageVsAedes.median <= TARGET_CPU_PER_MESSAGE_VS_AEDES
          : undefined,
      },
    ],
    notes: [
      generatorNote(summary(AEDES), summary(HUB_MQTT)),
      `checkpoints during the rounds: ${checkpoints.timed} by checkpoint_timeout, ${checkpoints.requested} requested ` +
        `(WAL reached max_wal_size) (server: max_wal_size ${context.postgres.settings.max_wal_size}, ` +
        `checkpoint_timeout ${context.postgres.settings.checkpoint_timeout}).`,
      ...subjectNotes([...summaries.values()]),
    ],
  };
}

function throughputTable(
  settings: (typeof SETTINGS)['full'],
  summaries: SubjectSummary[],
  formedBatches: number[],
  concurrency: number,
  largestBatch: number,
): Table {
  return {
    title:
      `Ingest: ${settings.devices} devices × ${settings.window} unacknowledged messages of ${TELEMETRY_METRICS.length} metrics, ` +
      `${settings.rounds} rounds of ${settings.measureMs / 1000} s per run`,
    columns: [
      'Run',
      'msg/s acked',
      'rows/s committed',
      'p50 ms',
      'p99 ms',
      'max ms',
      'server CPU',
      'DB CPU',
      'generator CPU',
      'other CPU',
      'peak RSS',
    ],
    rows: summaries.map((summary) => [
      summary.label,
      formatSpread(summary.ackedPerSec),
      formatSpread(summary.rowsPerSec),
      formatMs(summary.latency.p50Ms),
      formatMs(summary.latency.p99Ms),
      formatMs(summary.latency.maxMs),
      formatCpu(summary.serverCpuCores),
      summary.databaseCpuCores === undefined ? '–' : formatCpu(summary.databaseCpuCores),
      summary.generatorCpuCores === undefined
        ? '–'
        : `${formatCpu(summary.generatorCpuCores)} (${summary.generatorProcesses}×)`,
      formatCpu(summary.otherCpuCores),
      formatBytes(summary.final.peakRssBytes),
    ]),
    notes: [
      'Figures: median over the rounds (lowest–highest). Latency: PUBLISH (or frame) sent → PUBACK (or ack) received.',
      'rows/s committed: count(*) of telemetry at the start and the end of each window. CPU: 100 % = one core.',
      'other CPU: everything else the machine ran meanwhile (other work on a shared machine); high values mean noisy figures.',
      `Ceiling rows: batches of ${formatInt(largestBatch)} rows (TELEHUB_INGEST_BATCH_ROWS), ×N: N writers; the hub's write ` +
        `alone: ${concurrency} writers (TELEHUB_INGEST_MAX_INFLIGHT). The hub's mean batch per round: ` +
        `${formedBatches.map(formatInt).join(', ') || '–'}. Ceiling latency: one batch (transaction); "server CPU" is the script.`,
    ],
  };
}

function ratioTable(ratios: Record<string, Spread>): Table {
  const line = (label: string, key: string) => [label, formatRatioSpread(ratios[key]!)];
  const times = (label: string, key: string) => [label, formatTimesSpread(ratios[key]!)];
  return {
    title: 'Ingest: ratios to the baselines of the same round',
    columns: ['Ratio', 'median (lowest–highest)'],
    rows: [
      line('MQTT rows/s ÷ COPY ceiling rows/s (headline)', 'mqttVsCeiling'),
      line('MQTT with the COPY write (opt-in) rows/s ÷ COPY ceiling rows/s', 'mqttCopyVsCeiling'),
      line('MQTT rows/s: COPY write ÷ INSERT write (the default) (A/B)', 'mqttCopyVsInsert'),
      line("MQTT rows/s ÷ the hub's COPY write alone", 'mqttVsHubWrite'),
      line("the hub's COPY write alone ÷ COPY ceiling", 'hubCopyWriteVsCeiling'),
      line("the hub's INSERT statement alone ÷ COPY ceiling", 'hubStatementVsCeiling'),
      line("the hub's COPY write alone ÷ its INSERT statement alone", 'hubCopyWriteVsStatement'),
      line('COPY text ×2 ÷ COPY binary ×2', 'copyTextVsBinary'),
      line('COPY binary ×2 ÷ ×1', 'copyTwoVsOne'),
      line('COPY binary ×2 without the read index ÷ with it', 'withoutIndexVsWith'),
      line('MQTT msg/s ÷ aedes msg/s', 'mqttVsAedes'),
      times("MQTT hub CPU per acknowledged message ÷ aedes's", 'mqttCpuPerMessageVsAedes'),
      ...(ratios.mqttVsCompared
        ? [
            line('MQTT msg/s: this build ÷ the compared build (A/B)', 'mqttVsCompared'),
            times('MQTT CPU per message: this build ÷ the compared build (A/B)', 'mqttCpuPerMessageVsCompared'),
            times("MQTT CPU per message: the compared build ÷ aedes's", 'comparedCpuPerMessageVsAedes'),
          ]
        : []),
      line('WebSocket rows/s ÷ COPY ceiling rows/s', 'wsVsCeiling'),
      line('WebSocket msg/s ÷ aedes MQTT msg/s', 'wsVsAedes'),
      line(`COPY ceiling rows/s ÷ ${TELEMETRY_METRICS.length} ÷ aedes msg/s`, 'ceilingVsAedes'),
    ],
    notes: [
      `The COPY ceiling of a round is the best of ${COPY_CEILINGS.join(', ')} in that round (same table and index as the hub's, no device_latest).`,
      'The last line is the most that any server committing before it acknowledges could reach against aedes here.',
    ],
  };
}

/** How much of the database writers' time went to waiting on each other's locks (pg_stat_activity, every 20 ms). */
function lockWaitTable(labels: string[], windows: (label: string) => WindowResult[]): Table {
  return {
    title: "Ingest: the database writers' lock waits (sampled every 20 ms)",
    columns: ['Run', 'active samples', 'waiting on a lock', 'most sampled states'],
    rows: labels.map((label) => {
      const all = windows(label).flatMap((result) => (result.waits ? [result.waits] : []));
      const active = all.reduce((sum, waits) => sum + waits.activeSamples, 0);
      const locked = all.reduce((sum, waits) => sum + waits.lockSamples, 0);
      const events: Record<string, number> = {};
      for (const waits of all) {
        for (const [event, count] of Object.entries(waits.events)) events[event] = (events[event] ?? 0) + count;
      }
      const top = Object.entries(events)
        .sort(([, a], [, b]) => b - a)
        .slice(0, 3)
        .map(([event, count]) => `${event} ${Math.round((count / active) * 100)} %`)
        .join(', ');
      return [label, formatInt(active), active ? `${Math.round((locked / active) * 100)} %` : '–', top || '–'];
    }),
    notes: [
      'Per sample, every backend of the run that was executing a statement; "running" = not waiting (CPU, or I/O not reported as a wait).',
      'Lock/transactionid: waiting for another transaction to end (a device_latest row it upserted).',
    ],
  };
}

function hubInternalsTable(summaries: SubjectSummary[]): Table {
  return {
    title: "Ingest: the hub's batches (its /metrics) and a durability check",
    columns: [
      'Run',
      'batches/s',
      'mean rows/batch',
      'mean commit ms',
      'commit p99 ms',
      'event-loop delay p99 ms',
      'back-pressure pauses',
      'acked msgs × 3',
      'rows in DB',
      'durable',
    ],
    rows: summaries.map((summary) => {
      const { ingest } = summary;
      const durability = summary.final.durability;
      return [
        summary.label,
        ingest ? formatInt(ingest.batchesPerSec) : '–',
        ingest ? formatInt(ingest.meanBatchRows) : '–',
        ingest ? formatMs(ingest.meanFlushMs) : '–',
        ingest ? `≤ ${formatMs(ingest.flushP99Ms)}` : '–',
        ingest ? formatMs(ingest.eventLoopLagP99Ms) : '–',
        ingest ? formatInt(ingest.backPressurePauses) : '–',
        durability ? formatInt(durability.acknowledgedMessages * TELEMETRY_METRICS.length) : '–',
        durability ? formatInt(durability.rowsInDatabase) : '–',
        durability ? (durability.holds ? 'yes' : 'NO: acknowledged rows are missing') : '–',
      ];
    }),
    notes: [
      'commit p99: the upper bound of its /metrics histogram bucket; event-loop delay: the worst round (prom-client, between scrapes).',
      'durable: at the end, the table holds at least 3 rows for every message ever acknowledged (warm-ups included).',
    ],
  };
}

/** The generator's own capacity, shown by the aedes run: it must sit well above the hub's rate to not be the limit. */
function generatorNote(aedes: SubjectSummary, hub: SubjectSummary): string {
  const aedesRate = aedes.ackedPerSec?.median ?? Number.NaN;
  const hubRate = hub.ackedPerSec?.median ?? Number.NaN;
  const headroom = aedesRate / hubRate;
  const verdict =
    headroom >= GENERATOR_HEADROOM
      ? 'it is not what limits the hub'
      : 'it may be what limits the hub: give it more processes';
  return (
    `load generator: it drove aedes at ${formatInt(aedesRate)} msg/s with ${formatCpu(aedes.generatorCpuCores ?? Number.NaN)} CPU ` +
    `(${aedes.generatorProcesses} processes), ${headroom.toFixed(1)}× the hub's rate, where it used ` +
    `${formatCpu(hub.generatorCpuCores ?? Number.NaN)}: ${verdict}.`
  );
}
