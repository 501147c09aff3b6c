import { type DeviceWithToken, parseJsonText } from '@telehub/contracts';
import { parse } from 'csv-parse/sync';
import { ApiError, type FieldError } from '../common/api-error.js';
import { csvCell } from '../common/csv-cell.js';

/** The columns a bulk CSV may have; `name` is required per row, the others are optional. */
const CSV_COLUMNS = ['name', 'labels', 'metadata'] as const;

/**
 * Bulk creation from CSV: a header row with `name` and optionally `labels` (separated by `;` or
 * spaces) and `metadata` (a JSON object). Rows are validated like JSON requests afterwards.
 */
export function parseDevicesCsv(text: string, maxJsonDepth: number): unknown[] {
  let records: Record<string, string>[];
  let headerErrors: FieldError[] = [];
  try {
    records = parse(text, {
      columns: (header: string[]) => {
        const columns = header.map((h) => h.trim().toLowerCase());
        headerErrors = checkHeader(columns);
        return columns;
      },
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw new ApiError(400, 'invalid_csv', 'Malformed CSV', (error as Error).message);
  }
  if (headerErrors.length > 0) throw ApiError.validation(headerErrors);
  return records.map((record, index) => {
    const entry: Record<string, unknown> = { name: record.name };
    if (record.labels) entry.labels = record.labels.split(/[;\s]+/).filter(Boolean);
    if (record.metadata) {
      const metadata = parseJsonText(record.metadata, maxJsonDepth);
      if (!metadata.ok) {
        const message =
          metadata.code === 'json_too_deep' ? `metadata ${metadata.message}` : 'metadata must be a JSON object';
        throw ApiError.validation([{ field: `${index}.metadata`, message }]);
      }
      entry.metadata = metadata.value;
    }
    return entry;
  });
}

/**
 * A column the hub does not know would be dropped without a word (`lables` for `labels`), and a repeated one
 * would let one value silently win: both are refused, as the JSON bulk refuses an unknown key.
 */
function checkHeader(columns: string[]): FieldError[] {
  const known: readonly string[] = CSV_COLUMNS;
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  columns.forEach((column, index) => {
    if (column === '') {
      errors.push({
        field: `(column ${index + 1})`,
        message: `column without a name; the columns are ${known.join(', ')}`,
      });
    } else if (!known.includes(column)) {
      errors.push({ field: column, message: `unknown column; the columns are ${known.join(', ')}` });
    } else if (seen.has(column)) {
      errors.push({ field: column, message: 'column given twice' });
    }
    seen.add(column);
  });
  return errors;
}

/**
 * `id,name,token` rows: what the simulator and provisioning scripts read back, and what an operator may open
 * in a spreadsheet: names are neutralised against formula injection (csvCell).
 */
export function formatDevicesCsv(devices: DeviceWithToken[]): string {
  return `id,name,token\n${devices.map((device) => [device.id, csvCell(device.name), device.token].join(',')).join('\n')}\n`;
}
