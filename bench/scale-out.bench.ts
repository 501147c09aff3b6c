import type { BenchContext, Benchmark, BenchReport } from './lib/benchmark.js';
import { connectionsScale } from './scale-out/connections-scale.js';
import { crossNode } from './scale-out/cross-node.js';
import { ingestScale } from './scale-out/ingest-scale.js';
import { failedPart, type ScalePart } from './scale-out/scale-part.js';

/**
 * Several hub processes: TELEHUB_WORKERS=1 against 2 on this machine (ingest at full load, idle connections),
 * and two hub processes on one database (commands and the admin live path across them, beside the same node).
 * A part that fails is reported as a note, so one broken path does not hide the others' figures.
 */
export const scaleOutBench: Benchmark = {
  name: 'scale-out',
  title: 'Scale-out: 1 worker vs 2, and paths across hub processes',
  run,
};

const PARTS: Array<[string, (context: BenchContext) => Promise<ScalePart>]> = [
  ['ingest', ingestScale],
  ['idle connections', connectionsScale],
  ['cross-node', crossNode],
];

async function run(context: BenchContext): Promise<BenchReport> {
  const report: BenchReport = { settings: {}, figures: {}, tables: [], targets: [], notes: [] };
  for (const [name, part] of PARTS) {
    context.log(name);
    let result: ScalePart;
    try {
      result = await part(context);
    } catch (error) {
      context.log(`${name} failed: ${(error as Error).stack ?? error}`);
      result = failedPart(name, error);
    }
    Object.assign(report.settings, result.settings);
    Object.assign(report.figures, result.figures);
    report.tables.push(...result.tables);
    report.notes.push(...result.notes);
  }
  return report;
}
