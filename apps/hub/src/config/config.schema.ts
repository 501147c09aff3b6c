import { DEVICE_LIMITS, parseRfc3339 } from '@telehub/contracts';
import { z } from 'zod';
import { MAX_WORKERS } from './worker-count.js';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** `scheme://host[:port]` as a browser sends it in `Origin` (RFC 6454), or undefined when `text` is not one. */
function webOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    // Only an origin, nothing after it: a path, query or user would never match a browser's Origin header.
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
    return bare && !text.endsWith('#') && !text.endsWith('?') ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every setting telehub reads, with its environment variable and default. The README's configuration
 * table mirrors this object; keep them in step.
 */
export const ConfigSchema = z.object({
  TELEHUB_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  TELEHUB_HTTP_PORT: port.default(8080),
  TELEHUB_MQTT_PORT: port.default(1883),
  // MQTT sessions kept beyond their connection: 3.1.1 without Clean Session, and the cap of MQTT 5's Session
  // Expiry Interval (0: no session outlives its connection).
  TELEHUB_MQTT_SESSION_EXPIRY_S: z.coerce.number().int().min(0).max(2_147_483_647).default(7_200),
  TELEHUB_MQTT_MAX_SUBSCRIPTIONS: positiveInt.max(1_000).default(16),
  TELEHUB_MQTT_SESSION_SWEEP_INTERVAL_MS: positiveInt.default(60_000),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  TELEHUB_DATA_DIR: z.string().min(1).default('./.telehub'),
  TELEHUB_EMBEDDED_PG_PORT: port.default(0),
  TELEHUB_DB_POOL_SIZE: positiveInt.max(200).default(10),
  TELEHUB_DB_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  TELEHUB_READY_TIMEOUT_MS: positiveInt.default(1_000),
  TELEHUB_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  // Unset: 90 days and 2 years, or the finer tier's retention where that is longer (see retentionTiers).
  TELEHUB_RETENTION_1M_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
  TELEHUB_RETENTION_1H_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
  TELEHUB_TIMESCALE_JOB_CHECK_MS: positiveInt.default(60_000),
  TELEHUB_AGGREGATE_REFRESH_DELAY_MS: positiveInt.default(5_000),
  TELEHUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TELEHUB_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  TELEHUB_ADMIN_TOKEN: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters (use a random value)').optional(),
  ),
  TELEHUB_AUTH_CACHE_TTL_MS: positiveInt.default(60_000),
  TELEHUB_AUTH_NEGATIVE_CACHE_SIZE: z.coerce.number().int().min(0).default(10_000),
  TELEHUB_AUTH_NEGATIVE_CACHE_TTL_MS: positiveInt.default(5_000),
  // Failed authentications per source address (0: no throttle, e.g. behind a proxy that hides client addresses).
  TELEHUB_AUTH_FAILURE_BURST: z.coerce.number().int().min(0).default(30),
  TELEHUB_AUTH_FAILURE_RATE_PER_SEC: z.coerce.number().positive().default(0.5),
  TELEHUB_AUTH_THROTTLE_MAX_ADDRESSES: positiveInt.default(100_000),
  TELEHUB_MAX_REQUEST_BYTES: positiveInt.default(1024 * 1024),
  TELEHUB_BULK_MAX_REQUEST_BYTES: positiveInt.default(16 * 1024 * 1024),

  // HTTP port (API, dashboard, WebSocket handshakes)
  // Default: 256, or fewer when the open-files limit leaves room for fewer (see open-files-limit.ts).
  TELEHUB_HTTP_MAX_CONNECTIONS: positiveInt.optional(),
  TELEHUB_HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  TELEHUB_HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  TELEHUB_HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(5_000),
  TELEHUB_SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  TELEHUB_NODE_ID: optionalString,
  // Hub processes on this machine sharing its ports (node:cluster): a number, or `auto` (one per core).
  TELEHUB_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(MAX_WORKERS)]).default(1),
  // Hub processes on one database: each renews a lease; one whose lease lapses is declared lost by the others.
  TELEHUB_NODE_LEASE_RENEW_MS: positiveInt.min(100).default(2_000),
  TELEHUB_NODE_LEASE_TTL_MS: positiveInt.min(300).default(10_000),

  // Device connections
  TELEHUB_MQTT_TLS_PORT: port.default(8883),
  TELEHUB_TLS_CERT_FILE: optionalString,
  TELEHUB_TLS_KEY_FILE: optionalString,
  TELEHUB_PLAIN_LISTENERS: bool.default(true),
  // Behind a load balancer that sends the PROXY protocol (HAProxy send-proxy-v2, AWS NLB, nginx proxy_protocol).
  TELEHUB_PROXY_PROTOCOL: bool.default(false),
  TELEHUB_PROXY_HEADER_TIMEOUT_MS: positiveInt.default(5_000),
  TELEHUB_WS_PERMESSAGE_DEFLATE: bool.default(false),
  // Default: 20,000, or fewer when the open-files limit leaves room for fewer (see open-files-limit.ts).
  TELEHUB_MAX_CONNECTIONS: positiveInt.optional(),
  TELEHUB_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
  TELEHUB_DEVICE_CONNECT_BURST: positiveInt.default(20),
  TELEHUB_DEVICE_CONNECT_RATE_PER_SEC: z.coerce.number().positive().default(2),
  TELEHUB_CLOSE_GRACE_MS: positiveInt.default(1_000),
  TELEHUB_MAX_MESSAGE_BYTES: positiveInt.default(256 * 1024),
  TELEHUB_MAX_POINTS_PER_MESSAGE: positiveInt.default(5_000),
  TELEHUB_DEVICE_RATE_PER_SEC: positiveInt.default(100),
  TELEHUB_DEVICE_RATE_BURST: positiveInt.default(200),
  TELEHUB_RATE_LIMIT_DISCONNECT_MS: positiveInt.default(30_000),
  // HTTP ingest's per-device budget kept in the database, for every hub process (false: each process its own).
  TELEHUB_HTTP_RATE_SHARED: bool.default(true),
  TELEHUB_LAST_SEEN_INTERVAL_MS: positiveInt.default(5_000),
  // Presence: a device without a live session is active while heard from within its inactivity timeout.
  TELEHUB_DEVICE_INACTIVITY_TIMEOUT_S: positiveInt.max(DEVICE_LIMITS.inactivityTimeoutMaxSeconds).default(600),
  TELEHUB_ACTIVITY_CHECK_INTERVAL_MS: positiveInt.default(5_000),
  // How often each hub process looks for live sessions whose device token has expired.
  TELEHUB_TOKEN_EXPIRY_CHECK_INTERVAL_MS: positiveInt.max(60_000).default(250),

  // What device and admin messages may hold
  TELEHUB_JSON_MAX_DEPTH: positiveInt.max(1000).default(32),
  TELEHUB_STATE_MAX_BYTES: positiveInt.default(64 * 1024),
  TELEHUB_TELEMETRY_MIN_TIME: z
    .string()
    .default('2000-01-01T00:00:00Z')
    .transform((value, context) => {
      const ms = parseRfc3339(value);
      if (ms === undefined) {
        context.addIssue({ code: 'custom', message: 'must be an RFC 3339 time like 2000-01-01T00:00:00Z' });
        return z.NEVER;
      }
      return ms;
    }),
  TELEHUB_TELEMETRY_MAX_FUTURE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600 * 1000),
  TELEHUB_EVENT_MAX_STRING_BYTES: positiveInt.min(16).default(256),
  TELEHUB_EVENTS_FLUSH_MS: positiveInt.max(60_000).default(250),
  TELEHUB_EVENTS_MAX_BUFFERED: positiveInt.default(10_000),

  // Commands
  TELEHUB_COMMAND_MAX_QUEUED: positiveInt.default(1_000),
  TELEHUB_COMMAND_MAX_PARAMS_BYTES: positiveInt.default(16 * 1024),
  TELEHUB_COMMAND_DEFAULT_TTL_SECONDS: positiveInt.default(24 * 3600),
  TELEHUB_COMMAND_MAX_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
  TELEHUB_COMMAND_MAX_WAIT_SECONDS: positiveInt.default(60),
  TELEHUB_COMMAND_SWEEP_INTERVAL_MS: positiveInt.default(1_000),

  // Admin WebSocket channel
  TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS: positiveInt.default(5_000),
  TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED: positiveInt.default(100),
  TELEHUB_ADMIN_ORIGINS: z
    .string()
    .default('')
    .transform((value, context) => {
      const origins: string[] = [];
      for (const item of value.split(',').map((part) => part.trim())) {
        if (item === '') continue;
        const origin = webOrigin(item);
        if (origin === undefined) {
          context.addIssue({
            code: 'custom',
            message: `${JSON.stringify(item)} is not an origin like https://dash.example.com`,
          });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    }),
  TELEHUB_ADMIN_WS_RATE: z.coerce.number().positive().max(1000).default(10),
  TELEHUB_ADMIN_WS_MAX_RATE: z.coerce.number().positive().max(1000).default(50),
  TELEHUB_ADMIN_WS_MAX_BUFFER_BYTES: positiveInt.default(1024 * 1024),
  TELEHUB_ADMIN_WS_MAX_PENDING_POINTS: positiveInt.default(50_000),
  TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS: positiveInt.default(50),
  TELEHUB_ADMIN_WS_MAX_MESSAGE_BYTES: positiveInt.default(64 * 1024),
  TELEHUB_ADMIN_WS_PING_INTERVAL_MS: positiveInt.default(15_000),
  TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS: positiveInt.default(30_000),
  TELEHUB_ADMIN_CLUSTER_INTEREST_WAIT_MS: positiveInt.default(1_000),
  TELEHUB_ADMIN_CLUSTER_MAX_POINTS: positiveInt.default(2_000),

  // Telemetry history
  TELEHUB_HISTORY_MAX_POINTS: positiveInt.default(10_000),
  TELEHUB_HISTORY_CSV_MAX_EXPORTS: positiveInt.default(2),
  TELEHUB_HISTORY_CSV_STALL_TIMEOUT_MS: positiveInt.default(60_000),

  // Prometheus scrape endpoint (/metrics)
  TELEHUB_METRICS_AUTH: z.enum(['token', 'none']).default('token'),
  TELEHUB_METRICS_TOKEN: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters (use a random value)').optional(),
  ),
  // Unset (or empty): /metrics stays on the HTTP port.
  TELEHUB_METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65_535).optional()),
  TELEHUB_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  TELEHUB_METRICS_MAX_CONNECTIONS: positiveInt.default(8),
  TELEHUB_METRICS_TIMEOUT_MS: positiveInt.default(10_000),

  // Ingest pipeline
  TELEHUB_INGEST_BATCH_ROWS: positiveInt.default(5_000),
  TELEHUB_INGEST_BATCH_MS: positiveInt.default(20),
  TELEHUB_INGEST_MAX_INFLIGHT: positiveInt.max(16).default(2),
  TELEHUB_INGEST_HIGH_WATER_ROWS: positiveInt.default(200_000),
  TELEHUB_INGEST_LOW_WATER_ROWS: positiveInt.default(100_000),
  TELEHUB_INGEST_RETRY_MAX_MS: positiveInt.default(5_000),
  // copy: COPY … FROM STDIN (binary) + the latest-value upsert in one transaction; insert: one INSERT statement
  // (for servers or proxies without COPY FROM STDIN, e.g. PGlite's wire server).
  TELEHUB_INGEST_WRITE_METHOD: z.enum(['copy', 'insert']).default('insert'),
});

export type RawConfig = z.infer<typeof ConfigSchema>;
