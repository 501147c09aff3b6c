import { z } from 'zod';

/** Fixed shape limits of the history API; the points limit is a hub setting (TELEHUB_HISTORY_MAX_POINTS). */
export const HISTORY_LIMITS = {
  /** Metrics one request may name. */
  metricsMax: 100,
  /** Without `bucket`, the hub picks the smallest round bucket that gives at most about this many points. */
  autoBucketPoints: 1000,
} as const;

export const TELEMETRY_AGGS = ['avg', 'min', 'max', 'last', 'count'] as const;
export const TelemetryAggSchema = z.enum(TELEMETRY_AGGS).meta({ id: 'TelemetryAgg' });
export type TelemetryAgg = z.infer<typeof TelemetryAggSchema>;

/** Metric names as devices may send them (docs/device-protocol.md). */
const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;

/** RFC 3339 date-time (seconds required, fraction and offset as the RFC allows), `now`, or `-<n><s|m|h|d|w>`. */
export const HISTORY_TIME_PATTERN =
  /^(now|-\d{1,9}[smhdw]|\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d| \d\d:\d\d))$/;
const TIME_MESSAGE =
  'must be an RFC 3339 time like 2025-01-31T12:00:00Z, or relative to now like -15m, -1h, -7d, or now';

/** `raw`, or a whole number of seconds, minutes, hours, days or weeks. */
export const HISTORY_BUCKET_PATTERN = /^(raw|[1-9]\d{0,3}[smhdw])$/;

const historyTime = z
  .string()
  .max(40)
  .regex(HISTORY_TIME_PATTERN, TIME_MESSAGE)
  .describe('RFC 3339, or relative to now: `now`, `-30s`, `-15m`, `-1h`, `-7d`, `-2w`');

export const TelemetryHistoryQuerySchema = z
  .object({
    metrics: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((value, context) => {
        if (value === undefined) return '*' as const;
        const names = [
          ...new Set((Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((m) => m.trim())),
        ].filter(Boolean);
        const bad = names.filter((name) => !METRIC_NAME.test(name));
        if (bad.length > 0) {
          context.addIssue({
            code: 'custom',
            message: `${bad.map((name) => JSON.stringify(name.slice(0, 120))).join(', ')}: metric names hold letters, digits and _ . : / - (at most 100)`,
          });
        }
        if (names.length > HISTORY_LIMITS.metricsMax) {
          context.addIssue({ code: 'custom', message: `at most ${HISTORY_LIMITS.metricsMax} metrics per request` });
        }
        return names.length === 0 ? ('*' as const) : names;
      })
      .describe('Comma-separated metric names, e.g. `temp,hum`; all metrics with data in the range when omitted'),
    from: historyTime.default('-1h'),
    to: historyTime.default('now'),
    bucket: z
      .string()
      .regex(HISTORY_BUCKET_PATTERN, 'must be raw or a size like 30s, 5m, 1h, 1d, 1w')
      .optional()
      .describe(
        `Bucket size (\`30s\`, \`5m\`, \`1h\`, \`1d\`, \`1w\`) or \`raw\`. Omitted: the smallest of 1s 5s 10s 30s 1m 5m 15m 30m 1h 3h 6h 12h 1d 7d giving at most about ${HISTORY_LIMITS.autoBucketPoints} points per series (JSON), raw rows (CSV)`,
      ),
    agg: TelemetryAggSchema.default('avg').describe('How a bucket combines its samples (ignored for raw)'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();
export type TelemetryHistoryQuery = z.output<typeof TelemetryHistoryQuerySchema>;

export const TelemetrySeriesSchema = z
  .object({
    metric: z.string(),
    times: z.array(z.number()).describe('Epoch milliseconds, oldest first: bucket starts, or sample times for raw'),
    values: z.array(z.number()).describe('values[i] belongs to times[i]'),
  })
  .meta({ id: 'TelemetrySeries' });
export type TelemetrySeries = z.infer<typeof TelemetrySeriesSchema>;

export const TELEMETRY_TIERS = ['raw', '1m', '1h'] as const;
export const TelemetryTierSchema = z
  .enum(TELEMETRY_TIERS)
  .describe(
    'Which storage tier answered: raw rows, or (TimescaleDB) the 1-minute or 1-hour aggregates. Each tier has its own retention (TELEHUB_RETENTION_DAYS, TELEHUB_RETENTION_1M_DAYS, TELEHUB_RETENTION_1H_DAYS); buckets of whole hours come from the 1-hour tier, of whole minutes from the 1-minute tier, others from raw rows',
  )
  .meta({ id: 'TelemetryTier' });
export type TelemetryTier = z.infer<typeof TelemetryTierSchema>;

export const TelemetryHistorySchema = z
  .object({
    deviceId: z.string().uuid(),
    from: z
      .string()
      .describe(
        'RFC 3339, inclusive. With a bucket, the requested range widened to whole buckets: every point covers its whole bucket',
      ),
    to: z.string().describe('RFC 3339, exclusive'),
    bucket: z.string().describe('The bucket used, like `5m`, or `raw`'),
    bucketMs: z.number().int().describe('Bucket size in milliseconds; 0 for raw'),
    agg: TelemetryAggSchema,
    tier: TelemetryTierSchema,
    coveredFrom: z
      .string()
      .describe(
        'RFC 3339: the answer holds data from this time to `to`. It is `from`, or later where the answering tier keeps less (its retention, rounded up to a whole bucket): older data is not in that tier, and is never read from chunks not dropped yet, so every bucket size of one tier answers alike',
      ),
    series: z
      .array(TelemetrySeriesSchema)
      .describe('One per metric: each named metric (empty when it has no data), or each metric with data'),
  })
  .meta({ id: 'TelemetryHistory' });
export type TelemetryHistory = z.infer<typeof TelemetryHistorySchema>;

export const FleetSummarySchema = z
  .object({
    devices: z.number().int().describe('Provisioned devices'),
    online: z.number().int().describe('Devices with a live session now'),
    active: z
      .number()
      .int()
      .describe(
        'Devices without a live session heard from within their inactivity timeout (HTTP devices, short sessions); shown online with `online`',
      ),
    messagesPerSecond: z.number().describe('Telemetry messages committed per second over the last minute'),
    rowsPerSecond: z.number().describe('Telemetry rows (samples) committed per second over the last minute'),
  })
  .meta({ id: 'FleetSummary' });
export type FleetSummary = z.infer<typeof FleetSummarySchema>;
