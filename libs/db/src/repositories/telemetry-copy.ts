import { DataEncodingError } from '../database-errors.js';
import type { TelemetryBatch } from './telemetry.repository.js';

/** How a batch travels in `COPY telemetry … FROM STDIN`: PostgreSQL's binary format, or its text format. */
export type TelemetryCopyFormat = 'binary' | 'text';

/** The columns in the order both encoders write them. */
export const TELEMETRY_COPY_COLUMNS = '(time, device_id, metric, value)';

/** PostgreSQL's timestamps count from 2000-01-01T00:00:00Z (its epoch), in microseconds. */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_TO_32 = 2 ** 32;
/** PGCOPY\n\377\r\n\0, then flags (int32 0) and the header extension's length (int32 0): "COPY" in the manual. */
const BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
/** Per row: field count (int16) and, per field, its length (int32) and bytes, except the metric's own bytes. */
const BINARY_ROW_FIXED = 2 + (4 + 8) + (4 + 16) + 4 + (4 + 8);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A batch in PostgreSQL's binary COPY format (manual, "COPY", Binary Format): no text for the server to parse,
 * and no per-element escaping in JavaScript. Times are epoch milliseconds (fractions kept to the microsecond, as
 * `to_timestamp(t / 1000.0)` does); times and values must be finite numbers, which the payload parser ensures.
 * A device id that is not a UUID throws DataEncodingError (SQLSTATE 22P02, as PostgreSQL's own uuid input would).
 */
export function encodeTelemetryBinary(batch: TelemetryBatch): Buffer {
  const { times, deviceIds, metrics, values } = batch;
  const rows = times.length;
  let metricBytes = 0;
  for (let row = 0; row < rows; row++) metricBytes += Buffer.byteLength(metrics[row]!, 'utf8');
  const buffer = Buffer.allocUnsafe(BINARY_HEADER.length + rows * BINARY_ROW_FIXED + metricBytes + 2);
  let offset = BINARY_HEADER.copy(buffer, 0);
  let lastDeviceId: string | undefined;
  let lastUuid: Buffer = Buffer.alloc(16);
  for (let row = 0; row < rows; row++) {
    offset = buffer.writeInt16BE(4, offset);

    // timestamptz: int64 microseconds since 2000-01-01, written as two 32-bit halves (exact below 2^53 µs).
    const micros = Math.round((times[row]! - POSTGRES_EPOCH_MS) * 1000);
    const high = Math.floor(micros / TWO_TO_32);
    offset = buffer.writeInt32BE(8, offset);
    offset = buffer.writeInt32BE(high, offset);
    offset = buffer.writeUInt32BE(micros - high * TWO_TO_32, offset);

    // uuid: 16 bytes. A message's rows are one device, so consecutive rows reuse the last parse.
    const deviceId = deviceIds[row]!;
    if (deviceId !== lastDeviceId) {
      lastUuid = uuidBytes(deviceId);
      lastDeviceId = deviceId;
    }
    offset = buffer.writeInt32BE(16, offset);
    offset += lastUuid.copy(buffer, offset);

    // text: its UTF-8 bytes; the server checks the encoding (a NUL byte is refused with 22021, as in the text format).
    const metric = metrics[row]!;
    const length = buffer.write(metric, offset + 4, 'utf8');
    buffer.writeInt32BE(length, offset);
    offset += 4 + length;

    offset = buffer.writeInt32BE(8, offset);
    offset = buffer.writeDoubleBE(values[row]!, offset);
  }
  // The trailer: a field count of -1.
  offset = buffer.writeInt16BE(-1, offset);
  return buffer.subarray(0, offset);
}

/**
 * A batch in PostgreSQL's text COPY format: one line per row, columns separated by tabs. Metric names are
 * device strings, so backslash, tab, newline and carriage return are escaped as the format requires; the
 * server parses and checks everything else (a malformed device id or an unencodable string is its data error).
 */
export function encodeTelemetryText(batch: TelemetryBatch): string {
  const { times, deviceIds, metrics, values } = batch;
  let text = '';
  for (let row = 0; row < times.length; row++) {
    text += `${timestampText(times[row]!)}\t${deviceIds[row]}\t${escapeCopyText(metrics[row]!)}\t${values[row]}\n`;
  }
  return text;
}

const COPY_TEXT_SPECIAL = /[\\\t\n\r]/g;
const COPY_TEXT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value for a text-format COPY line: the four characters that the format gives a meaning escaped. */
export function escapeCopyText(value: string): string {
  return value.replace(COPY_TEXT_SPECIAL, (character) => COPY_TEXT_ESCAPES[character]!);
}

/** ISO 8601 in UTC with microseconds (Date keeps milliseconds only; the rest is the fraction of `ms`). */
function timestampText(ms: number): string {
  const micros = Math.round(ms * 1000);
  const wholeMs = Math.floor(micros / 1000);
  const iso = new Date(wholeMs).toISOString();
  const extra = micros - wholeMs * 1000;
  return extra === 0 ? iso : `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}

function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) {
    throw new DataEncodingError('22P02', `invalid input syntax for type uuid: "${id.slice(0, 40)}"`);
  }
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}
