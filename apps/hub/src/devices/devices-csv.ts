import { type DeviceWithToken, parseJsonText } from '@telehub/contracts';
import { parse } from 'csv-parse/sync';
import { ApiError } from '../common/api-error.js';

/**
 * Bulk creation from CSV: a header row with `name` and optionally `labels` (separated by `;` or
 * spaces) and `metadata` (a JSON object). Rows are validated like JSON requests afterwards.
 */
export function parseDevicesCsv(text: string, maxJsonDepth: number): unknown[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw new ApiError(400, 'invalid_csv', 'Malformed CSV', (error as Error).message);
  }
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

/** `id,name,token` rows: what the simulator and provisioning scripts read back. */
export function formatDevicesCsv(devices: DeviceWithToken[]): string {
  const quote = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return `id,name,token\n${devices.map((device) => [device.id, quote(device.name), device.token].join(',')).join('\n')}\n`;
}
