import type { HistoryRow } from '@telehub/db';
import { csvCell } from '../common/csv-cell.js';

/** Where an export's text goes; `write` settles once the receiver can take more (back-pressure). */
export interface ChunkSink {
  /** Called once, before the first write: the name a browser saves the file under. */
  start(filename: string): void;
  write(chunk: string): Promise<void>;
}

export const CSV_HEADER = 'time,metric,value\n';

/**
 * Writes the rows as CSV, one chunk per batch, waiting for the sink before asking for the next batch: with a
 * database cursor as the source, no more than one batch is ever held in memory. The header goes with the
 * first batch, so an export that fails before any data can still be answered with an error.
 */
export async function writeCsv(batches: AsyncIterable<HistoryRow[]>, sink: ChunkSink): Promise<number> {
  let header = CSV_HEADER;
  let rows = 0;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    await sink.write(header + formatCsvRows(batch));
    header = '';
    rows += batch.length;
  }
  if (header) await sink.write(header);
  return rows;
}

/**
 * `time,metric,value` lines, times in RFC 3339 (UTC, milliseconds). Metric names may start with `-`
 * (`-12v-rail`), which a spreadsheet takes for a formula: csvCell neutralises them.
 */
export function formatCsvRows(rows: readonly HistoryRow[]): string {
  let text = '';
  for (const row of rows) text += `${new Date(row.time).toISOString()},${csvCell(row.metric)},${row.value}\n`;
  return text;
}

/** `telemetry-<device>-<from>-<to>[-<bucket>-<agg>].csv`, times as compact UTC (`20250131T120000Z`). */
export function csvFilename(deviceId: string, fromMs: number, toMs: number, bucket?: { label: string; agg: string }) {
  const compact = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const suffix = bucket ? `-${bucket.label}-${bucket.agg}` : '';
  return `telemetry-${deviceId}-${compact(fromMs)}-${compact(toMs)}${suffix}.csv`;
}

/** The batches of several sources one after another (each is only opened once the previous one is done). */
export async function* concatBatches<T>(sources: Iterable<() => AsyncIterable<T[]>>): AsyncIterable<T[]> {
  for (const open of sources) yield* open();
}
