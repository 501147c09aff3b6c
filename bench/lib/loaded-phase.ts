import { type BenchContext, sleep } from './benchmark.js';
import { formatMs } from './format.js';
import { type HistogramSnapshot, type LatencyHistogram, mergeHistograms } from './histogram.js';
import type { Subject, WindowOptions, WindowResult } from './subjects.js';

/** The steady background load, as a share of the hub's maximum measured in this run. */
export const LOAD_SHARE = 0.5;
/**
 * A driver starts this long after the window's warm-up and stops this long before its end, so the whole
 * of its traffic falls inside the generator's measured window (whose start waits for a /metrics scrape).
 */
const WINDOW_MARGIN_MS = 300;

/**
 * The hub's maximum MQTT rate: from the ingest bench of this run, or a probe at full load on `subject` (the
 * same way the latency bench does when run alone). Returns the maximum and the half-load rate.
 */
export async function halfLoadRate(
  context: BenchContext,
  subject: Subject,
  probe: { warmupMs: number; probeMs: number },
  notes: string[],
): Promise<{ maxRatePerSec: number; ratePerSec: number }> {
  let maxRatePerSec = context.shared.hubMqttMaxMessagesPerSec;
  if (maxRatePerSec === undefined) {
    context.log('no ingest figure from this run: measuring the maximum first');
    const result = await subject.measureWindow({ warmupMs: probe.warmupMs, measureMs: probe.probeMs });
    maxRatePerSec = result.ackedPerSec!;
    notes.push(`maximum measured by a ${probe.probeMs / 1000} s probe (run "ingest" first for a better one)`);
  }
  return { maxRatePerSec, ratePerSec: maxRatePerSec * LOAD_SHARE };
}

/**
 * One window of `subject` at `window.ratePerSec`, with `drive` running meanwhile for the measured part of
 * it: the driver's traffic shares the hub with the generator's.
 */
export async function measureWhile<T>(
  subject: Subject,
  window: WindowOptions,
  drive: (durationMs: number) => Promise<T>,
): Promise<{ window: WindowResult; driven: T }> {
  const measured = subject.measureWindow(window);
  // If the window fails early, do not leave its rejection unobserved while the driver runs.
  measured.catch(() => undefined);
  await sleep(window.warmupMs + WINDOW_MARGIN_MS);
  const driven = await drive(Math.max(WINDOW_MARGIN_MS, window.measureMs - 2 * WINDOW_MARGIN_MS));
  return { window: await measured, driven };
}

/** Paces a loop: resolves at `startMs + offsetMs + n × intervalMs`, or at once when that time has passed. */
export async function untilSlot(startMs: number, offsetMs: number, intervalMs: number, n: number): Promise<boolean> {
  const due = startMs + offsetMs + n * intervalMs;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  return wait > -LATE_MS;
}

/** A paced step that starts more than this after its turn counts as late (the same bar as the generator's). */
export const LATE_MS = 5;

/** p50/p99/max of a step, merged over rounds, as table cells. */
export function stepCells(histogram: LatencyHistogram): string[] {
  const summary = histogram.summary();
  return [String(summary.count), formatMs(summary.p50Ms), formatMs(summary.p99Ms), formatMs(summary.maxMs)];
}

export function merged(snapshots: HistogramSnapshot[]): LatencyHistogram {
  return mergeHistograms(snapshots);
}

/** `a ÷ b` as "1.4×", or – when either is missing. */
export function times(numerator: number, denominator: number): string {
  const ratio = numerator / denominator;
  return Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : '–';
}
