import { cleanText } from '@telehub/contracts';

/** Nesting kept in an event's detail; hub code builds flat details, so deeper is a bug or hostile input. */
const MAX_DETAIL_DEPTH = 4;
/** Keys and items kept per object or array in an event's detail. */
const MAX_DETAIL_ENTRIES = 50;

/**
 * A device event's detail as it may be stored: every string and key cleaned of what PostgreSQL refuses (U+0000,
 * lone surrogates) and cut to `maxStringBytes`, nesting and width bounded. Client ids, topics and parser messages
 * come from unauthenticated clients: a refused CONNECT must cost a bounded row, never a failed batch.
 */
export function cleanEventDetail(detail: Record<string, unknown>, maxStringBytes: number): Record<string, unknown> {
  return cleanObject(detail, maxStringBytes, 1);
}

function cleanValue(value: unknown, maxStringBytes: number, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value, maxStringBytes);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DETAIL_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    return value.slice(0, MAX_DETAIL_ENTRIES).map((item) => cleanValue(item, maxStringBytes, depth + 1));
  }
  return cleanObject(value as Record<string, unknown>, maxStringBytes, depth + 1);
}

function cleanObject(object: Record<string, unknown>, maxStringBytes: number, depth: number): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  let entries = 0;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    if (++entries > MAX_DETAIL_ENTRIES) break;
    clean[cleanText(key, maxStringBytes)] = cleanValue(object[key], maxStringBytes, depth);
  }
  return clean;
}
