import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { RetentionTiers } from '@telehub/db';
import { ConfigSchema, type RawConfig } from './config.schema.js';
import type { HubConfig } from './hub-config.types.js';
import {
  defaultHttpMaxConnections,
  defaultMaxConnections,
  openFilesLimit,
  readProcessLimits,
} from './open-files-limit.js';
import { loadTlsSettings } from './tls-settings.js';
import { workerCount } from './worker-count.js';

export type { HubConfig, IngestSettings } from './hub-config.types.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'TELEHUB_ADMIN_TOKEN', 'TELEHUB_METRICS_TOKEN']);

export const HUB_CONFIG = Symbol('HUB_CONFIG');

/** Validates the environment; a bad value throws a ConfigError naming each variable and what is wrong. */
export function loadConfig(env: Record<string, string | undefined> = process.env): HubConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '?');
        // Secrets are named but never echoed: this message ends up in terminals and log collectors.
        const shown = SECRET_VARIABLES.has(variable) ? '' : `=${JSON.stringify(env[variable] ?? '')}`;
        return `${variable}${shown}: ${issue.message}`;
      }),
    );
  }
  const c = parsed.data;
  const { tls, problems } = loadTlsSettings({
    certFile: c.TELEHUB_TLS_CERT_FILE,
    keyFile: c.TELEHUB_TLS_KEY_FILE,
    plainListeners: c.TELEHUB_PLAIN_LISTENERS,
  });
  if (problems.length > 0) throw new ConfigError(problems);
  const settingProblems = [...checkMetricsSettings(c), ...checkLeaseSettings(c)];
  if (settingProblems.length > 0) throw new ConfigError(settingProblems);
  const retention = retentionTiers(c.TELEHUB_RETENTION_DAYS, c.TELEHUB_RETENTION_1M_DAYS, c.TELEHUB_RETENTION_1H_DAYS);
  const fileLimit = openFilesLimit(readProcessLimits());
  const httpMaxConnections = c.TELEHUB_HTTP_MAX_CONNECTIONS ?? defaultHttpMaxConnections(256, fileLimit);
  return {
    proxyProtocol: { enabled: c.TELEHUB_PROXY_PROTOCOL, headerTimeoutMs: c.TELEHUB_PROXY_HEADER_TIMEOUT_MS },
    workers: workerCount(c.TELEHUB_WORKERS),
    http: {
      host: c.TELEHUB_HTTP_HOST,
      port: c.TELEHUB_HTTP_PORT,
      maxRequestBytes: c.TELEHUB_MAX_REQUEST_BYTES,
      bulkMaxRequestBytes: c.TELEHUB_BULK_MAX_REQUEST_BYTES,
      maxConnections: httpMaxConnections,
      // Node requires the header timeout not to exceed the request timeout (headers are part of the request).
      headersTimeoutMs: Math.min(c.TELEHUB_HTTP_HEADERS_TIMEOUT_MS, c.TELEHUB_HTTP_REQUEST_TIMEOUT_MS),
      requestTimeoutMs: c.TELEHUB_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: c.TELEHUB_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    mqtt: {
      port: c.TELEHUB_MQTT_PORT,
      sessionExpiryMaxSeconds: c.TELEHUB_MQTT_SESSION_EXPIRY_S,
      maxSubscriptions: c.TELEHUB_MQTT_MAX_SUBSCRIPTIONS,
      sessionSweepIntervalMs: c.TELEHUB_MQTT_SESSION_SWEEP_INTERVAL_MS,
    },
    database: {
      url: c.DATABASE_URL,
      poolSize: c.TELEHUB_DB_POOL_SIZE,
      connectTimeoutMs: c.TELEHUB_DB_CONNECT_TIMEOUT_MS,
      embeddedPort: c.TELEHUB_EMBEDDED_PG_PORT,
      readyTimeoutMs: c.TELEHUB_READY_TIMEOUT_MS,
    },
    dataDir: resolve(c.TELEHUB_DATA_DIR),
    retention,
    timescale: {
      jobCheckIntervalMs: c.TELEHUB_TIMESCALE_JOB_CHECK_MS,
      aggregateRefreshDelayMs: c.TELEHUB_AGGREGATE_REFRESH_DELAY_MS,
    },
    log: { level: c.TELEHUB_LOG_LEVEL, format: c.TELEHUB_LOG_FORMAT },
    adminToken: c.TELEHUB_ADMIN_TOKEN,
    auth: {
      cacheTtlMs: c.TELEHUB_AUTH_CACHE_TTL_MS,
      negativeCacheSize: c.TELEHUB_AUTH_NEGATIVE_CACHE_SIZE,
      negativeCacheTtlMs: c.TELEHUB_AUTH_NEGATIVE_CACHE_TTL_MS,
      failureBurst: c.TELEHUB_AUTH_FAILURE_BURST,
      failureRatePerSec: c.TELEHUB_AUTH_FAILURE_RATE_PER_SEC,
      throttleMaxAddresses: c.TELEHUB_AUTH_THROTTLE_MAX_ADDRESSES,
    },
    nodeId: c.TELEHUB_NODE_ID ?? hostname(),
    cluster: { leaseRenewMs: c.TELEHUB_NODE_LEASE_RENEW_MS, leaseTtlMs: c.TELEHUB_NODE_LEASE_TTL_MS },
    devices: {
      mqttTlsPort: c.TELEHUB_MQTT_TLS_PORT,
      tls,
      plainListeners: c.TELEHUB_PLAIN_LISTENERS,
      perMessageDeflate: c.TELEHUB_WS_PERMESSAGE_DEFLATE,
      maxConnections: c.TELEHUB_MAX_CONNECTIONS ?? defaultMaxConnections(20_000, fileLimit, httpMaxConnections),
      connectTimeoutMs: c.TELEHUB_CONNECT_TIMEOUT_MS,
      connectBurst: c.TELEHUB_DEVICE_CONNECT_BURST,
      connectRatePerSec: c.TELEHUB_DEVICE_CONNECT_RATE_PER_SEC,
      closeGraceMs: c.TELEHUB_CLOSE_GRACE_MS,
      maxMessageBytes: c.TELEHUB_MAX_MESSAGE_BYTES,
      maxPointsPerMessage: c.TELEHUB_MAX_POINTS_PER_MESSAGE,
      ratePerSec: c.TELEHUB_DEVICE_RATE_PER_SEC,
      rateBurst: c.TELEHUB_DEVICE_RATE_BURST,
      rateLimitDisconnectMs: c.TELEHUB_RATE_LIMIT_DISCONNECT_MS,
      httpRateShared: c.TELEHUB_HTTP_RATE_SHARED,
      lastSeenIntervalMs: c.TELEHUB_LAST_SEEN_INTERVAL_MS,
      tokenExpiryCheckIntervalMs: c.TELEHUB_TOKEN_EXPIRY_CHECK_INTERVAL_MS,
    },
    activity: {
      inactivityTimeoutSeconds: c.TELEHUB_DEVICE_INACTIVITY_TIMEOUT_S,
      checkIntervalMs: c.TELEHUB_ACTIVITY_CHECK_INTERVAL_MS,
    },
    payloads: {
      jsonMaxDepth: c.TELEHUB_JSON_MAX_DEPTH,
      stateMaxBytes: c.TELEHUB_STATE_MAX_BYTES,
      telemetryMinTimeMs: c.TELEHUB_TELEMETRY_MIN_TIME,
      telemetryMaxFutureMs: c.TELEHUB_TELEMETRY_MAX_FUTURE_MS,
      eventStringMaxBytes: c.TELEHUB_EVENT_MAX_STRING_BYTES,
    },
    deviceEvents: { flushIntervalMs: c.TELEHUB_EVENTS_FLUSH_MS, maxBuffered: c.TELEHUB_EVENTS_MAX_BUFFERED },
    ingest: {
      batchRows: c.TELEHUB_INGEST_BATCH_ROWS,
      batchMs: c.TELEHUB_INGEST_BATCH_MS,
      maxInflight: c.TELEHUB_INGEST_MAX_INFLIGHT,
      highWaterRows: c.TELEHUB_INGEST_HIGH_WATER_ROWS,
      lowWaterRows: Math.min(c.TELEHUB_INGEST_LOW_WATER_ROWS, c.TELEHUB_INGEST_HIGH_WATER_ROWS),
      retryMaxMs: c.TELEHUB_INGEST_RETRY_MAX_MS,
      writeMethod: c.TELEHUB_INGEST_WRITE_METHOD,
    },
    commands: {
      maxQueuedPerDevice: c.TELEHUB_COMMAND_MAX_QUEUED,
      maxParamsBytes: c.TELEHUB_COMMAND_MAX_PARAMS_BYTES,
      defaultTtlSeconds: Math.min(c.TELEHUB_COMMAND_DEFAULT_TTL_SECONDS, c.TELEHUB_COMMAND_MAX_TTL_SECONDS),
      maxTtlSeconds: c.TELEHUB_COMMAND_MAX_TTL_SECONDS,
      maxWaitSeconds: c.TELEHUB_COMMAND_MAX_WAIT_SECONDS,
      sweepIntervalMs: c.TELEHUB_COMMAND_SWEEP_INTERVAL_MS,
    },
    adminChannel: {
      authTimeoutMs: c.TELEHUB_ADMIN_WS_AUTH_TIMEOUT_MS,
      maxUnauthenticated: c.TELEHUB_ADMIN_WS_MAX_UNAUTHENTICATED,
      allowedOrigins: c.TELEHUB_ADMIN_ORIGINS,
      defaultRate: Math.min(c.TELEHUB_ADMIN_WS_RATE, c.TELEHUB_ADMIN_WS_MAX_RATE),
      maxRate: c.TELEHUB_ADMIN_WS_MAX_RATE,
      maxBufferBytes: c.TELEHUB_ADMIN_WS_MAX_BUFFER_BYTES,
      maxPendingPoints: c.TELEHUB_ADMIN_WS_MAX_PENDING_POINTS,
      maxSubscriptions: c.TELEHUB_ADMIN_WS_MAX_SUBSCRIPTIONS,
      maxMessageBytes: c.TELEHUB_ADMIN_WS_MAX_MESSAGE_BYTES,
      pingIntervalMs: c.TELEHUB_ADMIN_WS_PING_INTERVAL_MS,
      stallTimeoutMs: c.TELEHUB_ADMIN_WS_STALL_TIMEOUT_MS,
      clusterInterestWaitMs: c.TELEHUB_ADMIN_CLUSTER_INTEREST_WAIT_MS,
      clusterMaxPoints: c.TELEHUB_ADMIN_CLUSTER_MAX_POINTS,
    },
    history: {
      maxPoints: c.TELEHUB_HISTORY_MAX_POINTS,
      csvMaxExports: c.TELEHUB_HISTORY_CSV_MAX_EXPORTS,
      csvStallTimeoutMs: c.TELEHUB_HISTORY_CSV_STALL_TIMEOUT_MS,
    },
    metrics: {
      auth: c.TELEHUB_METRICS_AUTH,
      token: c.TELEHUB_METRICS_TOKEN,
      port: c.TELEHUB_METRICS_PORT,
      host: c.TELEHUB_METRICS_HOST,
      maxConnections: c.TELEHUB_METRICS_MAX_CONNECTIONS,
      timeoutMs: c.TELEHUB_METRICS_TIMEOUT_MS,
    },
    shutdownTimeoutMs: c.TELEHUB_SHUTDOWN_TIMEOUT_MS,
  };
}

/** A lease must outlast a few renewals, or a process that misses one (a pause, a slow commit) is declared lost. */
function checkLeaseSettings(c: RawConfig): string[] {
  if (c.TELEHUB_NODE_LEASE_TTL_MS >= 3 * c.TELEHUB_NODE_LEASE_RENEW_MS) return [];
  return [
    `TELEHUB_NODE_LEASE_TTL_MS=${c.TELEHUB_NODE_LEASE_TTL_MS}: must be at least 3 × TELEHUB_NODE_LEASE_RENEW_MS (${3 * c.TELEHUB_NODE_LEASE_RENEW_MS})`,
  ];
}

/** Settings that are each valid but contradict one another. */
function checkMetricsSettings(c: RawConfig): string[] {
  const problems: string[] = [];
  if (c.TELEHUB_METRICS_TOKEN && c.TELEHUB_METRICS_AUTH === 'none')
    problems.push('TELEHUB_METRICS_TOKEN is set but TELEHUB_METRICS_AUTH="none" would let anyone scrape /metrics');
  if (c.TELEHUB_METRICS_PORT && c.TELEHUB_METRICS_PORT === c.TELEHUB_HTTP_PORT)
    problems.push(
      `TELEHUB_METRICS_PORT=${c.TELEHUB_METRICS_PORT}: the HTTP port already; unset it to serve /metrics there`,
    );
  return problems;
}

/** Retention days, 0 meaning forever: the longer of two. */
function longer(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.max(a, b);
}

/**
 * The tiers' retention. A coarser tier keeps at least as long as a finer one, so a bucket size that the coarser
 * tier answers never reaches less far back than a finer one; unset tiers default to 90 days (1 minute) and
 * 2 years (1 hour), or the finer tier's retention where that is longer.
 */
function retentionTiers(rawDays: number, minuteDays: number | undefined, hourDays: number | undefined): RetentionTiers {
  const minute = minuteDays ?? longer(90, rawDays);
  const hour = hourDays ?? longer(730, minute);
  const problems: string[] = [];
  const forever = (days: number) => (days === 0 ? 'forever' : `${days} days`);
  if (longer(minute, rawDays) !== minute) {
    problems.push(
      `TELEHUB_RETENTION_1M_DAYS=${minute}: the 1-minute tier must keep at least as long as raw rows (TELEHUB_RETENTION_DAYS: ${forever(rawDays)})`,
    );
  }
  if (longer(hour, minute) !== hour) {
    problems.push(
      `TELEHUB_RETENTION_1H_DAYS=${hour}: the 1-hour tier must keep at least as long as the 1-minute tier (${forever(minute)})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { rawDays, minuteDays: minute, hourDays: hour };
}
