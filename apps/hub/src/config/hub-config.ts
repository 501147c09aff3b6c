import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { RetentionTiers } from '@telehub/db';
import { ConfigSchema, type RawConfig } from './config.schema.js';
import {
  defaultHttpMaxConnections,
  defaultMaxConnections,
  openFilesLimit,
  readProcessLimits,
} from './open-files-limit.js';
import { loadTlsSettings, type TlsSettings } from './tls-settings.js';
import { workerCount } from './worker-count.js';

/** The hub's validated settings, grouped by concern. The only thing in the app that read process.env. */
export interface HubConfig {
  http: {
    host: string;
    port: number;
    /** Largest admin API request body (TELEHUB_MAX_REQUEST_BYTES). */
    maxRequestBytes: number;
    /** Largest bulk provisioning body (TELEHUB_BULK_MAX_REQUEST_BYTES). */
    bulkMaxRequestBytes: number;
    /** Connections on the HTTP port that are not device sessions (API, dashboard, admin WebSocket, handshakes). */
    maxConnections: number;
    /** A connection that has not sent a request's headers in this time gets 408 and is closed. */
    headersTimeoutMs: number;
    /** A request whose headers and body have not all arrived in this time gets 408 and its connection is closed. */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this long. */
    keepAliveTimeoutMs: number;
  };
  mqtt: {
    port: number;
    /** How long an MQTT session may outlive its connection (3.1.1 without Clean Session: exactly this); 0: never. */
    sessionExpiryMaxSeconds: number;
    /** Subscriptions one MQTT session may hold (and keep). */
    maxSubscriptions: number;
    /** How often expired MQTT sessions are deleted. */
    sessionSweepIntervalMs: number;
  };
  /**
   * Every connection on the HTTP and MQTT ports begins with a PROXY protocol header (v1 or v2) from a load
   * balancer, which names the client's address; a connection without one in `headerTimeoutMs` is closed.
   */
  proxyProtocol: { enabled: boolean; headerTimeoutMs: number };
  /** Hub processes on this machine sharing its ports (TELEHUB_WORKERS, `auto` resolved); 1: this process only. */
  workers: number;
  database: {
    url: string | undefined;
    poolSize: number;
    /**
     * A connection attempt that gets no answer is given up after this long, so a write stalled by a partition
     * resumes soon after the network heals (postgres.js's own default is 30 s).
     */
    connectTimeoutMs: number;
    embeddedPort: number;
    /** /readyz answers 503 when its own connection has no answer from the database in this time. */
    readyTimeoutMs: number;
  };
  dataDir: string;
  /** Days each history tier keeps (0: forever): raw rows, and on TimescaleDB the 1-minute and 1-hour aggregates. */
  retention: RetentionTiers;
  timescale: {
    /** How often the hub looks for failing TimescaleDB jobs (metric, log warning). */
    jobCheckIntervalMs: number;
    /** Committed rows older than the aggregates' refresh window are refreshed into them after this delay. */
    aggregateRefreshDelayMs: number;
  };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  adminToken: string | undefined;
  auth: {
    cacheTtlMs: number;
    /** Unknown device tokens remembered (so a retry loop does not reach the database), and for how long. */
    negativeCacheSize: number;
    negativeCacheTtlMs: number;
    /** Failed authentications per source address: a token bucket; burst 0 turns the throttle off. */
    failureBurst: number;
    failureRatePerSec: number;
    /** Source addresses the throttle remembers at most (the least recently failing are forgotten first). */
    throttleMaxAddresses: number;
  };
  /** Names this hub process in presence records; several hubs may share one database. */
  nodeId: string;
  /** Hub processes sharing one database (TELEHUB_NODE_LEASE_*). */
  cluster: {
    /** How often this process renews its lease, and looks for processes whose lease lapsed. */
    leaseRenewMs: number;
    /** A process that has not renewed its lease for this long is lost: its devices go offline (`node_lost`). */
    leaseTtlMs: number;
  };
  devices: {
    mqttTlsPort: number;
    tls: TlsSettings | undefined;
    plainListeners: boolean;
    perMessageDeflate: boolean;
    maxConnections: number;
    connectTimeoutMs: number;
    /** Connections per device (any transport): a token bucket against devices reconnecting in a tight loop. */
    connectBurst: number;
    connectRatePerSec: number;
    /** A closing connection waits this long for the device to close its side before it is cut off. */
    closeGraceMs: number;
    maxMessageBytes: number;
    maxPointsPerMessage: number;
    ratePerSec: number;
    rateBurst: number;
    rateLimitDisconnectMs: number;
    /**
     * HTTP ingest's per-device budget is shared by the hub processes (a row per device in the database, one
     * statement per request); false: each process keeps its own, enough for a single hub process.
     */
    httpRateShared: boolean;
    lastSeenIntervalMs: number;
    /** How often live sessions are checked for a token that expired meanwhile (each is closed then). */
    tokenExpiryCheckIntervalMs: number;
  };
  /** Active/inactive: heard from within the inactivity timeout (a device's own, or this default). */
  activity: {
    inactivityTimeoutSeconds: number;
    /** How often the activity sweeper looks for devices whose activity began or lapsed. */
    checkIntervalMs: number;
  };
  /** What device and admin messages may hold. */
  payloads: {
    /** Nesting of any JSON the hub accepts (device messages, admin requests and channel messages). */
    jsonMaxDepth: number;
    /** A device's reported state, merged, as JSON text. */
    stateMaxBytes: number;
    /** Telemetry `ts` earlier than this is refused (epoch ms). */
    telemetryMinTimeMs: number;
    /** Telemetry `ts` further ahead of the hub's clock than this is refused. */
    telemetryMaxFutureMs: number;
    /**
     * Untrusted strings (client ids, topics, messages) recorded in device events, and a session's client id,
     * are cut to this.
     */
    eventStringMaxBytes: number;
  };
  /** The device-event log's buffer: written every `flushIntervalMs`; beyond `maxBuffered` the oldest are dropped. */
  deviceEvents: { flushIntervalMs: number; maxBuffered: number };
  ingest: IngestSettings;
  commands: {
    /** Commands not yet final per device; one more is refused with 429. */
    maxQueuedPerDevice: number;
    maxParamsBytes: number;
    defaultTtlSeconds: number;
    maxTtlSeconds: number;
    maxWaitSeconds: number;
    sweepIntervalMs: number;
  };
  adminChannel: {
    authTimeoutMs: number;
    /** Connections that have not authenticated yet; more are refused (503) at the handshake. */
    maxUnauthenticated: number;
    /** Browser origins allowed besides the hub's own (TELEHUB_ADMIN_ORIGINS). */
    allowedOrigins: string[];
    /** Live messages per second per subscription, unless the subscription asks for another (up to maxRate). */
    defaultRate: number;
    maxRate: number;
    /** A connection with more unsent bytes than this is lagging: its subscriptions keep only the newest points. */
    maxBufferBytes: number;
    maxPendingPoints: number;
    maxSubscriptions: number;
    maxMessageBytes: number;
    pingIntervalMs: number;
    /** A connection whose unsent data stays above maxBufferBytes this long is not reading: it is closed. */
    stallTimeoutMs: number;
    /**
     * How long a new subscription waits for the other hub processes to confirm they send it its devices' live
     * points (before its snapshot is read); a process that has not answered by then is not waited for.
     */
    clusterInterestWaitMs: number;
    /**
     * Live points one process sends the others per tick of the admin rate (1 / maxRate); above it, only the
     * newest point of each series crosses and the rest are reported as `lagged`.
     */
    clusterMaxPoints: number;
  };
  history: {
    /** Points per series a JSON history answer may hold (buckets or raw rows); CSV streams, so has no limit. */
    maxPoints: number;
    /** CSV exports streaming at once: each holds a database connection for as long as its client reads. */
    csvMaxExports: number;
    /** A CSV export whose client reads nothing for this long is aborted, releasing its connection. */
    csvStallTimeoutMs: number;
  };
  /** The Prometheus scrape endpoint. */
  metrics: {
    /** `token`: a bearer token is required (the metrics token or any admin token); `none`: anyone may scrape. */
    auth: 'token' | 'none';
    token: string | undefined;
    /** Serve /metrics on this port only (not on the HTTP port); undefined: on the HTTP port. */
    port: number | undefined;
    host: string;
    /** Connections the metrics port holds at once; more are refused. */
    maxConnections: number;
    /** A scrape request must arrive and be answered in this time on the metrics port. */
    timeoutMs: number;
  };
  shutdownTimeoutMs: number;
}

/** How the telemetry writer batches, and when its backlog pauses device reads (TELEHUB_INGEST_*). */
export interface IngestSettings {
  /** Flush when this many rows are pending (TELEHUB_INGEST_BATCH_ROWS). */
  batchRows: number;
  /** ...or when the oldest pending row has waited this long (TELEHUB_INGEST_BATCH_MS). */
  batchMs: number;
  /** Batches being written at once (TELEHUB_INGEST_MAX_INFLIGHT). */
  maxInflight: number;
  /** Pending+inflight rows above this => onPressure(true): stop reading devices (TELEHUB_INGEST_HIGH_WATER_ROWS). */
  highWaterRows: number;
  /** ...until they drop below this => onPressure(false) (TELEHUB_INGEST_LOW_WATER_ROWS). */
  lowWaterRows: number;
  /** Backoff cap between retries of a failed batch (TELEHUB_INGEST_RETRY_MAX_MS). */
  retryMaxMs: number;
  /**
   * How a batch is written (TELEHUB_INGEST_WRITE_METHOD): `insert` (one INSERT statement writing rows and latest
   * values; the default) or `copy` (COPY FROM STDIN in the binary format, then the latest-value upsert, one
   * transaction; not the default while ingest-durability.e2e's killed-connections case fails with it 1 run in 5).
   */
  writeMethod: 'copy' | 'insert';
}

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
