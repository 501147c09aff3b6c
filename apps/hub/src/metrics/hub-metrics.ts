import { Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { WorkerMetrics } from './worker-metrics.js';

/**
 * The hub's Prometheus metrics, on a registry of its own (several hubs in one test process must not
 * share one). Served as text at /metrics: this process's, or with TELEHUB_WORKERS every worker's, aggregated
 * (WorkerMetrics; a metric's `aggregator` says how, summed unless it says otherwise).
 */
@Injectable()
export class HubMetrics {
  readonly registry = new Registry();
  private readonly workers: WorkerMetrics | undefined;

  readonly connections = new Gauge({
    name: 'telehub_connections',
    help: 'Live device sessions by transport',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly connects = new Counter({
    name: 'telehub_connects_total',
    help: 'Device sessions opened',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'telehub_auth_failures_total',
    help: 'Refused device authentications by reason',
    labelNames: ['transport', 'reason'],
    registers: [this.registry],
  });
  readonly authThrottled = new Counter({
    name: 'telehub_auth_throttled_total',
    help: 'Authentication attempts refused without a lookup: their source address is over its failure budget (TELEHUB_AUTH_FAILURE_BURST)',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly connectRateLimited = new Counter({
    name: 'telehub_connect_rate_limited_total',
    help: 'Device connections refused: the device connects faster than TELEHUB_DEVICE_CONNECT_RATE_PER_SEC',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  readonly httpConnections = new Gauge({
    name: 'telehub_http_connections',
    help: 'Open connections on the HTTP port that are not device sessions (API, dashboard, admin WebSocket)',
    registers: [this.registry],
  });
  readonly httpConnectionsDropped = new Counter({
    name: 'telehub_http_connections_dropped_total',
    help: 'HTTP connections closed at TELEHUB_HTTP_MAX_CONNECTIONS: an idle one closed for a new one (evicted), or a new one refused (full)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly adminHandshakesRefused = new Counter({
    name: 'telehub_admin_ws_refused_total',
    help: 'Admin WebSocket handshakes refused, by reason (origin, unauthenticated_limit, auth_throttled)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly messagesReceived = new Counter({
    name: 'telehub_messages_received_total',
    help: 'Accepted device messages',
    labelNames: ['transport', 'kind'],
    registers: [this.registry],
  });
  readonly messagesRejected = new Counter({
    name: 'telehub_messages_rejected_total',
    help: 'Rejected device messages by reason',
    labelNames: ['transport', 'reason'],
    registers: [this.registry],
  });
  readonly rowsWritten = new Counter({
    name: 'telehub_rows_written_total',
    help: 'Telemetry rows committed',
    registers: [this.registry],
  });
  /** Set by the ingest service: read at scrape time. */
  pendingRowsSource: () => number = () => 0;
  readonly rowsPending: Gauge = new Gauge({
    name: 'telehub_rows_pending',
    help: 'Telemetry rows accepted but not yet committed',
    registers: [this.registry],
    collect: (): void => this.rowsPending.set(this.pendingRowsSource()),
  });
  readonly batchRows = new Histogram({
    name: 'telehub_batch_rows',
    help: 'Rows per ingest batch',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000],
    registers: [this.registry],
  });
  readonly flushSeconds = new Histogram({
    name: 'telehub_flush_duration_seconds',
    help: 'Time to commit one ingest batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly backPressurePauses = new Counter({
    name: 'telehub_backpressure_pauses_total',
    help: 'Times device reads were paused because the ingest backlog passed the high-water mark',
    registers: [this.registry],
  });
  readonly deviceEventsDropped = new Counter({
    name: 'telehub_device_events_dropped_total',
    help: 'Device events not recorded: the buffer was full (buffer_full) or the database refused them (refused_by_database)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly commandTransitions = new Counter({
    name: 'telehub_command_transitions_total',
    help: 'Command status changes seen by this hub (any hub may have made them), by new status',
    labelNames: ['status'],
    registers: [this.registry],
    // Every process sees every transition (they arrive through PostgreSQL): summing would count each once per worker.
    aggregator: 'max',
  });
  readonly clusterMessagesSent = new Counter({
    name: 'telehub_cluster_messages_sent_total',
    help: 'Messages this hub process sent the others over the cluster bus (PostgreSQL NOTIFY), by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly adminClusterPoints = new Counter({
    name: 'telehub_admin_cluster_points_total',
    help: 'Live points of devices on this hub process watched by admins on others: sent, thinned (only the newest of a series crossed) or discarded (too many series in one tick)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly adminConnections = new Gauge({
    name: 'telehub_admin_connections',
    help: 'Open admin WebSocket connections',
    registers: [this.registry],
  });

  constructor() {
    // Includes nodejs_eventloop_lag_seconds and process memory/CPU.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.workers = WorkerMetrics.applies() ? new WorkerMetrics(this.registry) : undefined;
  }

  /** The text exposition a scrape answers: this process's metrics, or with TELEHUB_WORKERS the machine's. */
  text(): Promise<string> {
    return this.workers ? this.workers.machineText() : this.registry.metrics();
  }
}
