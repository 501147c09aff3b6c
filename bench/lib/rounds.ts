import type { BenchContext } from './benchmark.js';
import { formatInt, formatRatio } from './format.js';
import { LatencyHistogram, type LatencySummary, mergeHistograms } from './histogram.js';
import type { Subject, SubjectFinal, WindowOptions, WindowResult } from './subjects.js';

/**
 * Measures every subject in short windows, round after round (A B C, A B C, …), instead of one long run
 * each: on a machine shared with other work, load comes and goes over tens of seconds, and interleaving
 * spreads it over all subjects, so ratios of figures from the same round stay meaningful.
 */
export async function runRounds(
  context: BenchContext,
  subjects: Subject[],
  rounds: number,
  windowFor: (subject: Subject, round: number) => WindowOptions,
  afterWindow?: (subject: Subject, result: WindowResult) => void,
): Promise<Map<string, WindowResult[]>> {
  const results = new Map<string, WindowResult[]>(subjects.map((subject) => [subject.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of subjects) {
      const result = await subject.measureWindow(windowFor(subject, round));
      results.get(subject.label)!.push(result);
      afterWindow?.(subject, result);
      const messages = result.ackedPerSec === undefined ? '' : `${formatInt(result.ackedPerSec)} msg/s, `;
      const rows = result.rowsPerSec === undefined ? '' : `${formatInt(result.rowsPerSec)} rows/s, `;
      context.log(`round ${round + 1}/${rounds} ${subject.label}: ${messages}${rows}${result.latency.count} samples`);
    }
  }
  return results;
}

/** The median of per-round values, with the range, so a reader sees how much the rounds agreed. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

export function spread(values: number[]): Spread {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  const middle = Math.floor(finite.length / 2);
  const median = finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, values };
}

/** Per-round ratios of two subjects' figures (each pair measured close together), as a spread. */
export function ratioSpread(
  numerator: WindowResult[],
  denominator: WindowResult[],
  pick: (result: WindowResult) => number | undefined,
): Spread {
  return spread(
    numerator.map((result, round) => (pick(result) ?? Number.NaN) / (pick(denominator[round]!) ?? Number.NaN)),
  );
}

export function formatSpread(value: Spread | undefined, format: (value: number) => string = formatInt): string {
  if (!value || !Number.isFinite(value.median)) return '–';
  if (value.values.length < 2) return format(value.median);
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`;
}

export const formatRatioSpread = (value: Spread | undefined) => formatSpread(value, formatRatio);
/** A ratio as a multiple (2.10×), for costs such as CPU per message. */
export const formatTimesSpread = (value: Spread | undefined) =>
  formatSpread(value, (ratio) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–'));

export interface SubjectSummary {
  label: string;
  ackedPerSec: Spread | undefined;
  rowsPerSec: Spread | undefined;
  /** Percentiles over all rounds' samples together. */
  latency: LatencySummary;
  serverCpuCores: number;
  databaseCpuCores: number | undefined;
  generatorCpuCores: number | undefined;
  /** Mean over the rounds of CPU used by other work on the machine. */
  otherCpuCores: number;
  generatorProcesses: number;
  ingest:
    | {
        batchesPerSec: number;
        meanBatchRows: number;
        meanFlushMs: number;
        /** The worst round's. */
        flushP99Ms: number;
        backPressurePauses: number;
        /** The worst round's. */
        eventLoopLagP99Ms: number;
      }
    | undefined;
  errors: number;
  lateSends: number;
  disconnects: number;
  final: SubjectFinal;
}

export function summarize(subject: Subject, results: WindowResult[], final: SubjectFinal): SubjectSummary {
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const optional = (pick: (result: WindowResult) => number | undefined) =>
    results.every((result) => pick(result) !== undefined) ? results.map((result) => pick(result)!) : undefined;
  const acked = optional((result) => result.ackedPerSec);
  const rows = optional((result) => result.rowsPerSec);
  const database = optional((result) => result.databaseCpuCores);
  const generator = optional((result) => result.generatorCpuCores);
  const ingests = results.flatMap((result) => (result.ingest ? [result.ingest] : []));
  const batches = ingests.reduce((sum, ingest) => sum + ingest.batches, 0);
  const seconds = results.reduce((sum, result) => sum + result.durationMs / 1000, 0);
  return {
    label: subject.label,
    ackedPerSec: acked && spread(acked),
    rowsPerSec: rows && spread(rows),
    latency: mergeHistograms(results.map((result) => result.latency)).summary(),
    serverCpuCores: mean(results.map((result) => result.serverCpuCores)),
    databaseCpuCores: database && mean(database),
    generatorCpuCores: generator && mean(generator),
    otherCpuCores: mean(results.map((result) => result.otherCpuCores)),
    generatorProcesses: subject.generatorProcesses,
    ingest:
      ingests.length === 0
        ? undefined
        : {
            batchesPerSec: batches / seconds,
            meanBatchRows: ingests.reduce((sum, ingest) => sum + ingest.meanBatchRows * ingest.batches, 0) / batches,
            meanFlushMs: ingests.reduce((sum, ingest) => sum + ingest.meanFlushMs * ingest.batches, 0) / batches,
            flushP99Ms: Math.max(...ingests.map((ingest) => ingest.flushP99Ms)),
            backPressurePauses: ingests.reduce((sum, ingest) => sum + ingest.backPressurePauses, 0),
            eventLoopLagP99Ms: Math.max(...ingests.map((ingest) => ingest.eventLoopLagP99Ms)),
          },
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    lateSends: results.reduce((sum, result) => sum + result.lateSends, 0),
    disconnects: results.reduce((sum, result) => sum + result.disconnects, 0),
    final,
  };
}

/** Every window of every subject for the results file, with latency percentiles instead of raw histogram buckets. */
export function windowFigures(results: Map<string, WindowResult[]>): Record<string, unknown[]> {
  return Object.fromEntries(
    [...results].map(([label, windows]) => [
      label,
      windows.map((window) => ({ ...window, latency: LatencyHistogram.from(window.latency).summary() })),
    ]),
  );
}

/** Closes every subject, even when one fails to, and returns their final figures by label. */
export async function closeAll(subjects: Subject[]): Promise<Map<string, SubjectFinal>> {
  const finals = new Map<string, SubjectFinal>();
  for (const subject of subjects) {
    try {
      finals.set(subject.label, await subject.close());
    } catch (error) {
      finals.set(subject.label, {
        peakRssBytes: Number.NaN,
        durability: undefined,
        unanswered: Number.NaN,
        problems: [`closing failed: ${(error as Error).message}`],
      });
    }
  }
  return finals;
}

/** Notes for the report: anything that makes a subject's figures suspect. */
export function subjectNotes(summaries: SubjectSummary[]): string[] {
  const notes: string[] = [];
  for (const summary of summaries) {
    const { label, final } = summary;
    if (summary.errors > 0) notes.push(`${label}: ${summary.errors} publishes were answered with an error`);
    if (summary.disconnects > 0) notes.push(`${label}: ${summary.disconnects} connections closed during the windows`);
    if (final.unanswered > 0) notes.push(`${label}: ${final.unanswered} publishes were never answered`);
    if (final.durability && !final.durability.holds) {
      notes.push(
        `${label}: DURABILITY CHECK FAILED: ${final.durability.rowsInDatabase} rows for ${final.durability.acknowledgedMessages} acknowledged messages`,
      );
    }
    for (const problem of final.problems) notes.push(`${label}: ${problem}`);
  }
  return notes;
}
