/**
 * Short sessions, grouped: a device that connects for each message (a `mosquitto_pub` loop, a battery device
 * that wakes, sends and sleeps) records a `connected` and a `disconnected` event per message. Read back, a
 * burst of such sessions is one `short_sessions` entry ("12 short connections"). The hub's events API and the
 * dashboard's live lists group with this same code, so both show the same entries.
 */

/** One entry of a device's event list, newest first; `time` is epoch ms. */
export interface TimedDeviceEvent {
  type: string;
  time: number;
  detail: Record<string, unknown>;
}

export const SHORT_SESSIONS = 'short_sessions';

/** The `detail` of a `short_sessions` entry. */
export interface ShortSessionsDetail {
  /** Sessions in the burst. */
  count: number;
  /** RFC 3339: the first session's connect and the last session's disconnect. */
  from: string;
  to: string;
  transports: string[];
  /** Disconnect reasons, counted. */
  reasons: Record<string, number>;
  /** Each session lasted at most this long. */
  shortSessionMs: number;
}

export interface GroupingOptions<E extends TimedDeviceEvent> {
  shortSessionMs: number;
  /** Builds the entry that stands for `parts` (newest first: raw events and entries already grouped). */
  group(parts: E[], detail: ShortSessionsDetail): E;
}

/** Fewer consecutive short sessions than this stay as their own events. */
const MIN_SESSIONS = 2;

/**
 * Groups runs of consecutive short sessions in one device's events (newest first; the result too). A short
 * session is a `disconnected` event right after (in time) the `connected` event of the same transport, at most
 * `shortSessionMs` later. A run is broken by any other event (a long session, a rejected message, `inactive`),
 * so the list keeps its order. `short_sessions` entries in the input (grouped earlier, e.g. by the hub) join
 * a run next to them. `shortSessionMs` 0 returns the events as they are.
 */
export function groupShortSessions<E extends TimedDeviceEvent>(events: readonly E[], options: GroupingOptions<E>): E[] {
  if (options.shortSessionMs <= 0) return [...events];
  const out: E[] = [];
  let run: E[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const detail = describeRun(run, options.shortSessionMs);
    const grouped = run.some((event) => event.type === SHORT_SESSIONS);
    if (detail.count >= MIN_SESSIONS || grouped) out.push(run.length === 1 ? run[0]! : options.group(run, detail));
    else out.push(...run);
    run = [];
  };
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index]!;
    if (event.type === SHORT_SESSIONS) {
      run.push(event);
      continue;
    }
    const before = events[index + 1];
    if (before && isShortSession(before, event, options.shortSessionMs)) {
      run.push(event, before);
      index += 1;
      continue;
    }
    flush();
    out.push(event);
  }
  flush();
  return out;
}

/** `connected` then `disconnected` over one transport, at most `limitMs` apart. */
function isShortSession(connected: TimedDeviceEvent, disconnected: TimedDeviceEvent, limitMs: number): boolean {
  if (connected.type !== 'connected' || disconnected.type !== 'disconnected') return false;
  if (connected.detail.transport !== disconnected.detail.transport) return false;
  const lasted = disconnected.time - connected.time;
  return lasted >= 0 && lasted <= limitMs;
}

function describeRun(run: readonly TimedDeviceEvent[], shortSessionMs: number): ShortSessionsDetail {
  let count = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  const transports = new Set<string>();
  const reasons: Record<string, number> = {};
  for (const event of run) {
    if (event.type === SHORT_SESSIONS) {
      const detail = event.detail as Partial<ShortSessionsDetail>;
      count += typeof detail.count === 'number' ? detail.count : 0;
      from = Math.min(from, parseTime(detail.from) ?? event.time);
      to = Math.max(to, parseTime(detail.to) ?? event.time);
      for (const transport of Array.isArray(detail.transports) ? detail.transports : []) transports.add(transport);
      for (const [reason, times] of Object.entries(detail.reasons ?? {})) {
        if (typeof times === 'number') reasons[reason] = (reasons[reason] ?? 0) + times;
      }
      continue;
    }
    from = Math.min(from, event.time);
    to = Math.max(to, event.time);
    if (typeof event.detail.transport === 'string') transports.add(event.detail.transport);
    if (event.type === 'disconnected') {
      count += 1;
      const reason = typeof event.detail.reason === 'string' ? event.detail.reason : 'unknown';
      reasons[reason] = (reasons[reason] ?? 0) + 1;
    }
  }
  return {
    count,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    transports: [...transports].sort(),
    reasons,
    shortSessionMs,
  };
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
