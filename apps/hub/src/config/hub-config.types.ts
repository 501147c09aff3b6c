import type { RetentionTiers } from '@telehub/db';
import type { TlsSettings } from './tls-settings.js';

/**
 * The hub's validated settings, grouped by concern. loadConfig (hub-config.ts) reads them from the environment: it
 * is the only thing in the app that reads process.env.
 */
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
   * transaction; not the default while postgres.js's transactions misbehave on a lost connection: bench/README.md).
   */
  writeMethod: 'copy' | 'insert';
}
