/** One sample: a metric's value at a time (epoch ms). */
export interface TelemetryPoint {
  time: number;
  metric: string;
  value: number;
}

export type PayloadResult<T> = { ok: true; value: T } | { ok: false; code: PayloadErrorCode; message: string };
export type PayloadErrorCode = 'invalid_json' | 'invalid_payload' | 'too_many_points';

const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;
// Device clocks are often wrong; a timestamp more than a day ahead is a bug, not a measurement.
const MAX_FUTURE_MS = 24 * 3600 * 1000;
const MIN_TIME_MS = Date.UTC(2000, 0, 1);

export function parseJson(payload: Buffer | string): PayloadResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) };
  } catch (error) {
    return { ok: false, code: 'invalid_json', message: `payload is not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * A telemetry message is one object of metrics, `{"temp": 21.5, "ts": 1732190000000}`, or an array of them.
 * Numbers are values, booleans are stored as 1/0; `ts` (epoch ms or RFC 3339) is optional and defaults to
 * the time of receipt. Anything else rejects the whole message, so a device learns of its bug at once.
 */
export function toTelemetryPoints(
  data: unknown,
  receivedAt: number,
  maxPoints: number,
): PayloadResult<TelemetryPoint[]> {
  const objects = Array.isArray(data) ? data : [data];
  if (objects.length === 0) return invalid('an empty array holds no telemetry');
  const points: TelemetryPoint[] = [];
  for (const [index, object] of objects.entries()) {
    const where = Array.isArray(data) ? `item ${index}: ` : '';
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      return invalid(`${where}expected an object of metrics like {"temp": 21.5}`);
    }
    const time = parseTimestamp((object as Record<string, unknown>).ts, receivedAt);
    if (typeof time === 'string') return invalid(`${where}${time}`);
    let metrics = 0;
    for (const [metric, raw] of Object.entries(object)) {
      if (metric === 'ts') continue;
      if (!METRIC_NAME.test(metric))
        return invalid(
          `${where}metric name ${JSON.stringify(metric.slice(0, 120))} is not allowed (letters, digits, _ . : / -, at most 100)`,
        );
      let value: number;
      if (typeof raw === 'number' && Number.isFinite(raw)) value = raw;
      else if (typeof raw === 'boolean') value = raw ? 1 : 0;
      else return invalid(`${where}metric "${metric}" must be a number or a boolean, got ${describe(raw)}`);
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
    if (metrics === 0) return invalid(`${where}no metrics in the object`);
  }
  return { ok: true, value: points };
}

/** A state report is a JSON object, shallow-merged into the device's reported state. */
export function toStatePatch(data: unknown): PayloadResult<Record<string, unknown>> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return invalid('state must be a JSON object, e.g. {"firmware": "1.4.2"}');
  }
  return { ok: true, value: data as Record<string, unknown> };
}

function parseTimestamp(ts: unknown, receivedAt: number): number | string {
  if (ts === undefined) return receivedAt;
  let time: number;
  if (typeof ts === 'number') time = ts;
  else if (typeof ts === 'string' && /^\d{4}-\d\d-\d\dT/.test(ts)) time = Date.parse(ts);
  else return `"ts" must be epoch milliseconds or an RFC 3339 time, got ${describe(ts)}`;
  if (!Number.isFinite(time)) return `"ts" ${JSON.stringify(ts)} is not a valid time`;
  if (time < MIN_TIME_MS) return `"ts" ${ts} is before 2000 (did you send seconds instead of milliseconds?)`;
  if (time > receivedAt + MAX_FUTURE_MS) return `"ts" ${ts} is more than a day in the future`;
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
