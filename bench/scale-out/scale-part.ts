import type { Table } from '../lib/table.js';

/** What one part of the scale-out bench (ingest, idle connections, cross-node paths) adds to its report. */
export interface ScalePart {
  settings: Record<string, unknown>;
  figures: Record<string, unknown>;
  tables: Table[];
  notes: string[];
}

/** A part that could not run: its error becomes a note, so the other parts still report. */
export function failedPart(name: string, error: unknown): ScalePart {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return { settings: {}, figures: { [name]: { failed: message } }, tables: [], notes: [`${name}: FAILED: ${message}`] };
}
