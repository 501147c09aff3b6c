import { availableParallelism } from 'node:os';
import { HUB_ENV_FULL_LOAD } from '../ingest.bench.js';
import type { BenchContext } from '../lib/benchmark.js';
import { formatBytes, formatCpu, formatMs } from '../lib/format.js';
import { CpuMeter, processTree } from '../lib/proc-stats.js';
import {
  closeAll,
  formatRatioSpread,
  formatSpread,
  ratioSpread,
  runRounds,
  type Spread,
  type SubjectSummary,
  spread,
  subjectNotes,
  summarize,
  windowFigures,
} from '../lib/rounds.js';
import { type LoadSubject, openLoadSubject, type Subject, type WindowResult } from '../lib/subjects.js';
import type { Table } from '../lib/table.js';
import type { ScalePart } from './scale-part.js';

/** The ingest bench's load (100 devices × 32 unacknowledged QoS 1 messages), against 1 and 2 workers. */
const SETTINGS = {
  full: { devices: 100, window: 32, processes: 2, rounds: 3, warmupMs: 2_000, measureMs: 6_000 },
  quick: { devices: 20, window: 16, processes: 2, rounds: 1, warmupMs: 1_000, measureMs: 2_000 },
};
/** The machine counts as CPU-bound when its cores were at least this busy in the 2-worker windows. */
const CPU_BOUND_SHARE = 0.9;

const ONE = 'telehub, TELEHUB_WORKERS=1';
const TWO = 'telehub, TELEHUB_WORKERS=2';

/** Each hub's processes' CPU in one window (warm-up included): the primary first, then its workers. */
type ProcessCpu = number[];

/**
 * Ingest at full load, MQTT QoS 1: the hub as one process and as two workers sharing its ports (node:cluster),
 * each on a fresh database, measured in interleaved rounds. The figures that say where the limit is: the hub's
 * processes' CPU, PostgreSQL's, the generator's, and the whole machine's against its cores.
 */
export async function ingestScale(context: BenchContext): Promise<ScalePart> {
  const settings = context.quick ? SETTINGS.quick : SETTINGS.full;
  const load = { devices: settings.devices, window: settings.window, processes: settings.processes };
  const subjects: LoadSubject[] = [];
  const processCpu = new Map<string, ProcessCpu[]>([
    [ONE, []],
    [TWO, []],
  ]);
  let results: Map<string, WindowResult[]>;
  const spreadOver: Record<string, { online: Record<string, number>; rates: Record<string, number> }> = {};
  try {
    for (const [label, workers] of [
      [ONE, 1],
      [TWO, 2],
    ] as const) {
      subjects.push(
        await openLoadSubject(context, {
          ...load,
          label,
          server: 'hub',
          transport: 'mqtt',
          hubEnv: { ...HUB_ENV_FULL_LOAD, TELEHUB_WORKERS: String(workers), TELEHUB_NODE_ID: `bench-w${workers}` },
        }),
      );
    }
    results = await runRounds(
      context,
      subjects.map((subject) => withProcessCpu(subject, processCpu.get(subject.label)!)),
      settings.rounds,
      () => settings,
    );
    // What the hub itself recorded: which process holds each session, and the rate each process committed.
    for (const subject of subjects) {
      const database = subject.database!;
      const nodes = await database.hubNodes();
      spreadOver[subject.label] = {
        online: await database.onlineByNode(),
        rates: Object.fromEntries(nodes.map((node) => [node.name, node.messagesPerSecond])),
      };
    }
  } catch (error) {
    await closeAll(subjects);
    throw error;
  }
  const finals = await closeAll(subjects);
  const summaries = subjects.map((subject) =>
    summarize(subject, results.get(subject.label)!, finals.get(subject.label)!),
  );
  const windows = (label: string) => results.get(label)!;
  const cores = availableParallelism();
  const machine = (result: WindowResult) =>
    result.serverCpuCores + (result.databaseCpuCores ?? 0) + (result.generatorCpuCores ?? 0) + result.otherCpuCores;
  const ratios = {
    messages: ratioSpread(windows(TWO), windows(ONE), (result) => result.ackedPerSec),
    rows: ratioSpread(windows(TWO), windows(ONE), (result) => result.rowsPerSec),
    hubCpu: ratioSpread(windows(TWO), windows(ONE), (result) => result.serverCpuCores),
  };
  const machineBusy = new Map(
    [ONE, TWO].map((label) => [label, spread(windows(label).map((result) => machine(result) / cores))]),
  );
  const notes = [
    limitNote(summaries[1]!, machineBusy.get(TWO)!, cores, ratios.messages),
    ...Object.entries(spreadOver).map(
      ([label, { online, rates }]) =>
        `${label}: sessions by hub process (presence): ${formatCounts(online)}; messages/s each process last ` +
        `recorded (hub_nodes, its last minute): ${formatCounts(rates)}`,
    ),
    ...spreadWarnings(spreadOver[TWO]),
    ...subjectNotes(summaries),
  ];
  return {
    settings: { ingest: { ...settings, hubEnv: HUB_ENV_FULL_LOAD, workers: { [ONE]: 1, [TWO]: 2 } } },
    figures: {
      ingest: {
        subjects: Object.fromEntries(summaries.map((summary) => [summary.label, summary])),
        ratios,
        machineBusyShare: Object.fromEntries(machineBusy),
        cores,
        processCpu: Object.fromEntries(processCpu),
        spreadOver,
        windows: windowFigures(results),
      },
    },
    tables: [ingestTable(settings, summaries, processCpu, machineBusy, cores, ratios)],
    notes,
  };
}

/** The subject, with the CPU of each of its hub's processes measured over every window. */
function withProcessCpu(subject: LoadSubject, into: ProcessCpu[]): Subject {
  return {
    label: subject.label,
    generatorProcesses: subject.generatorProcesses,
    close: () => subject.close(),
    measureWindow: async (options) => {
      const meters = processTree(subject.hub!.pid).map((pid) => CpuMeter.forProcess(pid));
      for (const meter of meters) meter.start();
      const result = await subject.measureWindow(options);
      into.push(meters.map((meter) => meter.stop()));
      return result;
    },
  };
}

function ingestTable(
  settings: (typeof SETTINGS)['full'],
  summaries: SubjectSummary[],
  processCpu: Map<string, ProcessCpu[]>,
  machineBusy: Map<string, Spread>,
  cores: number,
  ratios: Record<'messages' | 'rows' | 'hubCpu', Spread>,
): Table {
  const perProcess = (label: string) => {
    const windows = processCpu.get(label)!;
    const count = Math.max(...windows.map((window) => window.length));
    return Array.from({ length: count }, (_, index) =>
      formatCpu(windows.reduce((sum, window) => sum + (window[index] ?? 0), 0) / windows.length),
    ).join(' + ');
  };
  const busy = (label: string) => formatSpread(machineBusy.get(label), (share) => formatCpu(share * cores));
  return {
    title:
      `Scale-out, ingest: ${settings.devices} devices × ${settings.window} unacknowledged QoS 1 messages, ` +
      `1 worker vs 2, ${settings.rounds} rounds of ${settings.measureMs / 1000} s each, ${cores} cores`,
    columns: [
      'Hub',
      'msg/s acked',
      'rows/s committed',
      'p50 ms',
      'p99 ms',
      'hub CPU',
      'per process',
      'DB CPU',
      'generator CPU',
      'other CPU',
      `machine busy (of ${cores * 100} %)`,
      'peak RSS',
    ],
    rows: [
      ...summaries.map((summary) => [
        summary.label,
        formatSpread(summary.ackedPerSec),
        formatSpread(summary.rowsPerSec),
        formatMs(summary.latency.p50Ms),
        formatMs(summary.latency.p99Ms),
        formatCpu(summary.serverCpuCores),
        perProcess(summary.label),
        summary.databaseCpuCores === undefined ? '–' : formatCpu(summary.databaseCpuCores),
        summary.generatorCpuCores === undefined ? '–' : formatCpu(summary.generatorCpuCores),
        formatCpu(summary.otherCpuCores),
        busy(summary.label),
        formatBytes(summary.final.peakRssBytes),
      ]),
      [
        'ratio 2 workers ÷ 1 (per round)',
        formatRatioSpread(ratios.messages),
        formatRatioSpread(ratios.rows),
        '',
        '',
        formatRatioSpread(ratios.hubCpu),
        '',
        '',
        '',
        '',
        '',
        '',
      ],
    ],
    notes: [
      'Figures: median over the rounds (lowest–highest); ratios are taken per round, then their median.',
      'hub CPU: the primary and its workers (with 1 worker the hub is one process); per process: primary first, over whole windows (warm-up included).',
      'machine busy: hub + PostgreSQL + generator + other work, all from /proc; at the number of cores × 100 % nothing more can run.',
      'peak RSS: the peaks of the hub processes, summed.',
    ],
  };
}

/** Where the limit is: the machine's cores, or something else when they were not full. */
function limitNote(two: SubjectSummary, busy: Spread, cores: number, gain: Spread): string {
  const parts =
    `hub ${formatCpu(two.serverCpuCores)}, PostgreSQL ${formatCpu(two.databaseCpuCores ?? Number.NaN)}, ` +
    `generator ${formatCpu(two.generatorCpuCores ?? Number.NaN)}, other work ${formatCpu(two.otherCpuCores)}`;
  const share = busy.median;
  if (!Number.isFinite(share)) return 'where the limit is: not measured (no machine CPU figures)';
  const summary = `with 2 workers the machine's ${cores} cores were ${formatCpu(share)} busy (${parts}); 2 workers gave ${formatRatioSpread(gain)} of 1 worker's msg/s`;
  if (share < CPU_BOUND_SHARE)
    return `where the limit is: not the machine's CPU (${summary}); look at the database's commits and lock waits (ingest bench).`;
  // On a shared machine other people's work may hold most of the cores: then that, not the hub, set the figures.
  const benchCores = two.serverCpuCores + (two.databaseCpuCores ?? 0) + (two.generatorCpuCores ?? 0);
  const crowded =
    two.otherCpuCores > benchCores
      ? ` Other work on the machine took more CPU than the hub, PostgreSQL and the generator together: these figures show what it left, not the hub's limit; run again on a quieter machine.`
      : '';
  return (
    `where the limit is: the CPU. ${summary}. A second worker can only take CPU from PostgreSQL, the generator and ` +
    `the first worker on the same cores, so the gain is bounded by what they leave; more cores (or PostgreSQL on a ` +
    `machine of its own) are what would let a second worker add throughput.${crowded}`
  );
}

/** A 2-worker hub whose sessions all sit on one process measured nothing about scale-out: say so. */
function spreadWarnings(spreadOver: { online: Record<string, number> } | undefined): string[] {
  if (!spreadOver) return [];
  const holders = Object.values(spreadOver.online).filter((count) => count > 0);
  return holders.length >= 2
    ? []
    : ['TELEHUB_WORKERS=2: THE SESSIONS DID NOT SPREAD over both workers; its figures are those of one worker'];
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return 'none';
  return entries.map(([name, count]) => `${name} ${Number.isInteger(count) ? count : count.toFixed(1)}`).join(', ');
}
