import type { RawData } from 'ws';

/** A text message as `ws` hands it over (one Buffer, or fragments), as a string. */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
