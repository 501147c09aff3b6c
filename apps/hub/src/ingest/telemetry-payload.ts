import { findUnstorableJson, parseJsonText, parseRfc3339 } from '@telehub/contracts';

/** One sample: a metric's value at a time (epoch ms). */
export interface TelemetryPoint {
  time: number;
  metric: string;
  value: number;
}

export type PayloadResult<T> = { ok: true; value: T } | { ok: false; code: PayloadErrorCode; message: string };
/** Refusal codes of device messages, shared by every transport (docs/device-protocol.md lists them). */
export type PayloadErrorCode =
  | 'invalid_json'
  | 'json_too_deep'
  | 'invalid_payload'
  | 'too_many_points'
  | 'state_too_large'
  | 'data_rejected';

/** The rules a device message is held to; every one is a hub setting. */
export interface PayloadLimits {
  /** TELEHUB_MAX_POINTS_PER_MESSAGE */
  maxPoints: number;
  /** TELEHUB_JSON_MAX_DEPTH */
  maxJsonDepth: number;
  /** TELEHUB_TELEMETRY_MIN_TIME: an earlier `ts` is refused (epoch ms). */
  minTimeMs: number;
  /** TELEHUB_TELEMETRY_MAX_FUTURE_MS: device clocks drift, but a `ts` further ahead is a bug, not a measurement. */
  maxFutureMs: number;
}

const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
/** Names that passed METRIC_NAME: a fleet sends the same few over and over. Emptied when it reaches its bound. */
const knownMetricNames = new Set<string>();
const KNOWN_METRIC_NAMES_MAX = 10_000;

function isMetricName(metric: string): boolean {
  if (knownMetricNames.has(metric)) return true;
  if (!METRIC_NAME.test(metric)) return false;
  if (knownMetricNames.size >= KNOWN_METRIC_NAMES_MAX) knownMetricNames.clear();
  knownMetricNames.add(metric);
  return true;
}

/** Where in a message a refusal points: the item of an array, nothing for a single object. */
function where(data: unknown, index: number): string {
  return Array.isArray(data) ? `item ${index}: ` : '';
}

/** JSON text within the depth limit (checked on the text, before parsing: see @telehub/contracts json-safety). */
export function parseJson(payload: Buffer | string, maxDepth: number): PayloadResult<unknown> {
  const parsed = parseJsonText(typeof payload === 'string' ? payload : payload.toString('utf8'), maxDepth);
  if (parsed.ok) return parsed;
  return { ok: false, code: parsed.code, message: `payload ${parsed.message}` };
}

/**
 * A telemetry message is one object of metrics, `{"temp": 21.5, "ts": 1732190000000}`, or an array of them.
 * Numbers are values, booleans are stored as 1/0; `ts` (epoch ms or RFC 3339) is optional and defaults to
 * the time of receipt. Anything else rejects the whole message, so a device learns of its bug at once.
 */
export function toTelemetryPoints(
  data: unknown,
  receivedAt: number,
  limits: PayloadLimits,
): PayloadResult<TelemetryPoint[]> {
  const { maxPoints } = limits;
  const objects = Array.isArray(data) ? data : [data];
  if (objects.length === 0) return invalid('an empty array holds no telemetry');
  const points: TelemetryPoint[] = [];
  // Plain loops, no Object.entries or iterator objects: this runs for every device message.
  for (let index = 0; index < objects.length; index += 1) {
    const object = objects[index] as unknown;
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      return invalid(`${where(data, index)}expected an object of metrics like {"temp": 21.5}`);
    }
    const fields = object as Record<string, unknown>;
    const time = parseTimestamp(fields.ts, receivedAt, limits);
    if (typeof time === 'string') return invalid(`${where(data, index)}${time}`);
    let metrics = 0;
    for (const metric in fields) {
      if (metric === 'ts' || !Object.hasOwn(fields, metric)) continue;
      if (!isMetricName(metric))
        return invalid(
          `${where(data, index)}metric name ${JSON.stringify(metric.slice(0, 120))} is not allowed (letters, digits, _ . : / -, at most 100)`,
        );
      const raw = fields[metric];
      let value: number;
      if (typeof raw === 'number' && Number.isFinite(raw)) value = raw;
      else if (typeof raw === 'boolean') value = raw ? 1 : 0;
      else
        return invalid(`${where(data, index)}metric "${metric}" must be a number or a boolean, got ${describe(raw)}`);
      points.push({ time, metric, value });
      metrics += 1;
      if (points.length > maxPoints) {
        return {
          ok: false,
          code: 'too_many_points',
          message: `more than ${maxPoints} points in one message (TELEHUB_MAX_POINTS_PER_MESSAGE)`,
        };
      }
    }
    if (metrics === 0) return invalid(`${where(data, index)}no metrics in the object`);
  }
  return { ok: true, value: points };
}

/**
 * A state report is a JSON object, shallow-merged into the device's reported state. What PostgreSQL's jsonb
 * cannot hold (U+0000, lone surrogates) or what nests too deep is refused here, not by a failed statement.
 */
export function toStatePatch(data: unknown, maxJsonDepth: number): PayloadResult<Record<string, unknown>> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return invalid('state must be a JSON object, e.g. {"firmware": "1.4.2"}');
  }
  const unstorable = findUnstorableJson(data, maxJsonDepth);
  if (unstorable) return invalid(`state ${unstorable.path ? `at ${unstorable.path} ` : ''}${unstorable.message}`);
  return { ok: true, value: data as Record<string, unknown> };
}

function parseTimestamp(ts: unknown, receivedAt: number, limits: PayloadLimits): number | string {
  if (ts === undefined) return receivedAt;
  let time: number | undefined;
  if (typeof ts === 'number') time = Number.isFinite(ts) ? ts : undefined;
  else if (typeof ts === 'string') {
    time = parseRfc3339(ts);
    if (time === undefined) {
      return `"ts" must be epoch milliseconds or an RFC 3339 time that exists, like 2025-01-31T12:00:00Z; got ${JSON.stringify(ts.slice(0, 40))}`;
    }
  } else return `"ts" must be epoch milliseconds or an RFC 3339 time, got ${describe(ts)}`;
  if (time === undefined) return `"ts" ${JSON.stringify(ts)} is not a valid time`;
  if (time < limits.minTimeMs) {
    const hint = typeof ts === 'number' && ts < 1e11 ? ' (did you send seconds instead of milliseconds?)' : '';
    return `"ts" ${ts} is before ${new Date(limits.minTimeMs).toISOString()} (TELEHUB_TELEMETRY_MIN_TIME)${hint}`;
  }
  if (time > receivedAt + limits.maxFutureMs) {
    return `"ts" ${ts} is more than ${limits.maxFutureMs} ms in the future by the hub's clock (TELEHUB_TELEMETRY_MAX_FUTURE_MS)`;
  }
  return time;
}

function invalid(message: string): { ok: false; code: 'invalid_payload'; message: string } {
  return { ok: false, code: 'invalid_payload', message };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value;
}
