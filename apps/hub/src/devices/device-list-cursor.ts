import type { DeviceSort } from '@telehub/contracts';
import type { DeviceListPosition, DeviceListSortKey } from '@telehub/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Microseconds since the epoch, as PostgreSQL's timestamptz holds them (a signed 64-bit integer). */
const MICROSECONDS = /^-?[0-9]{1,19}$/;

export interface DeviceOrder {
  key: DeviceListSortKey;
  descending: boolean;
}

export function deviceOrder(sort: DeviceSort): DeviceOrder {
  const descending = sort.startsWith('-');
  return { key: (descending ? sort.slice(1) : sort) as DeviceListSortKey, descending };
}

/**
 * The `nextCursor` of a device page: for `created`/`-created` the last device's id (as before sorting existed,
 * so those cursors keep working), otherwise an opaque token holding the sort order and the last row's key and
 * id, which only a page of that same order accepts.
 */
export function encodeDeviceCursor(sort: DeviceSort, position: DeviceListPosition): string {
  switch (position.sort) {
    case 'created':
      return position.id;
    case 'name':
      return token([sort, position.name, position.id]);
    case 'lastSeen':
      return token([sort, position.lastSeenUs, position.id]);
  }
}

/** The position a cursor names, or undefined when it is not a cursor of a page sorted by `sort`. */
export function decodeDeviceCursor(sort: DeviceSort, cursor: string): DeviceListPosition | undefined {
  const { key } = deviceOrder(sort);
  if (key === 'created') return UUID.test(cursor) ? { sort: 'created', id: cursor } : undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // Base64 decoding skips what it cannot use: only the exact encoding of the text is this cursor.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3 || parts[0] !== sort) return undefined;
  const [, value, id] = parts as [unknown, unknown, unknown];
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  if (key === 'name') return typeof value === 'string' ? { sort: 'name', name: value, id } : undefined;
  if (value === null || (typeof value === 'string' && MICROSECONDS.test(value))) {
    return { sort: 'lastSeen', lastSeenUs: value, id };
  }
  return undefined;
}

function token(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}
