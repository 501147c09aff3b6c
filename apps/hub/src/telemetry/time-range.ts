import { HISTORY_TIME_PATTERN, parseRfc3339 } from '@telehub/contracts';
import type { FieldError } from '../common/api-error.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

const RELATIVE = /^-(\d{1,9})([smhdw])$/;
/** An unencoded `+` in a URL query arrives as a space; before an offset it is unambiguous, so it is read as `+`. */
const SPACE_BEFORE_OFFSET = / (\d\d:\d\d)$/;

/** Years 1 to 9999: what both JavaScript dates and PostgreSQL timestamps hold without surprises. */
const MIN_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');
const FORMAT_MESSAGE =
  'must be an RFC 3339 time like 2025-01-31T12:00:00Z, or relative to now like -15m, -1h, -7d, or now';

export type TimeResult = { ok: true; ms: number } | { ok: false; message: string };

/** `now`, `-15m` style offsets from `nowMs`, or an RFC 3339 date-time, as epoch ms. */
export function parseTime(text: string, nowMs: number): TimeResult {
  const ms = toEpochMs(text, nowMs);
  if (typeof ms === 'string') return { ok: false, message: ms };
  if (ms < MIN_MS || ms > MAX_MS)
    return { ok: false, message: `${JSON.stringify(text)} is outside the years 1 to 9999` };
  return { ok: true, ms };
}

/** The time, or what is wrong with it. */
function toEpochMs(text: string, nowMs: number): number | string {
  if (text === 'now') return nowMs;
  const relative = RELATIVE.exec(text);
  if (relative) return nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  if (!HISTORY_TIME_PATTERN.test(text)) return FORMAT_MESSAGE;
  const ms = parseRfc3339(text.replace(SPACE_BEFORE_OFFSET, '+$1'));
  return ms ?? `${JSON.stringify(text)} is not a valid date and time`;
}

export type TimeRangeResult = { ok: true; fromMs: number; toMs: number } | { ok: false; errors: FieldError[] };

/** Both ends against the same `nowMs`; `from` must come before `to`. */
export function parseTimeRange(from: string, to: string, nowMs: number): TimeRangeResult {
  const start = parseTime(from, nowMs);
  const end = parseTime(to, nowMs);
  const errors: FieldError[] = [];
  if (!start.ok) errors.push({ field: 'from', message: start.message });
  if (!end.ok) errors.push({ field: 'to', message: end.message });
  if (!start.ok || !end.ok) return { ok: false, errors };
  if (start.ms >= end.ms) {
    return {
      ok: false,
      errors: [
        {
          field: 'from',
          message: `must be before to (from is ${new Date(start.ms).toISOString()}, to is ${new Date(end.ms).toISOString()})`,
        },
      ],
    };
  }
  return { ok: true, fromMs: start.ms, toMs: end.ms };
}
