import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { backoffDelay } from '@telehub/contracts';
import {
  DevicePresenceRepository,
  describeDataError,
  isDataError,
  type TelemetryBatch,
  TelemetryRepository,
} from '@telehub/db';
import type { Logger } from 'pino';
import { KeyedSerialQueue } from '../common/keyed-serial-queue.js';
import { HUB_CONFIG, type HubConfig, type IngestSettings } from '../config/hub-config.js';
import { INGEST_TELEMETRY, LATE_ROWS, type LateRows } from '../database/database.tokens.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { lateLaneWriteBatch, TelemetryLanes } from './telemetry-lanes.js';
import {
  type PayloadErrorCode,
  type PayloadLimits,
  type PayloadResult,
  parseJson,
  toStatePatch,
  toTelemetryPoints,
} from './telemetry-payload.js';
import {
  RowsRefusedError,
  TelemetryWriter,
  type TelemetryWriterOptions,
  WriterClosedError,
} from './telemetry-writer.js';

/** The first retry of a state merge while the database is unavailable waits about this long. */
const STATE_RETRY_INITIAL_MS = 100;

export type IngestOutcome =
  | { ok: true; rows: number }
  | { ok: false; code: PayloadErrorCode; message: string }
  /** Not stored, through no fault of the message: send it again later (`retryAfterSeconds`). */
  | { ok: false; code: 'unavailable' | 'overloaded'; message: string; retryAfterSeconds: number };

/** A refusal that is the hub's state, not the message's: the caller should answer 503 with Retry-After. */
export type Unavailability = Extract<IngestOutcome, { retryAfterSeconds: number }>;

/**
 * Who hears of the devices' traffic as ingest sees it. Ingest knows no sessions: the transports' DevicePort
 * passes these on to presence and flow control.
 */
export interface IngestListener {
  /** A device's telemetry passed validation and went to the writer: the device was heard from. */
  heard(deviceId: string): void;
  /** The backlog passed the high-water mark (true: stop reading devices) or fell below the low one (false). */
  pressure(high: boolean): void;
}

export interface ReportStateOptions {
  /**
   * While the database is unavailable: true (MQTT, WebSocket) holds the message and retries, so the device is
   * stalled by its unacknowledged messages; false (HTTP) answers `unavailable` at once.
   */
  waitForDatabase: boolean;
}

/**
 * Telemetry and state from any transport: validate, hand to the one batching writer, and answer only once
 * the data is committed. Rejected messages are counted and recorded with their reason. A message the database
 * refuses (a data error) is rejected like an invalid one; only unavailability is waited out.
 */
@Injectable()
export class IngestService implements OnModuleDestroy {
  /** The fleet's writer, and on TimescaleDB a second one for rows old enough to meet a running compression. */
  private readonly writer: TelemetryLanes;
  private readonly limits: PayloadLimits;
  private pressure = false;
  private listener: IngestListener = { heard: () => undefined, pressure: () => undefined };
  /**
   * A device's state merges run one after another: transports handle a device's messages concurrently, and two
   * reports of the same key must land in the order they were sent.
   */
  private readonly stateMerges = new KeyedSerialQueue();
  /** A state merge failed for availability and none has succeeded since. */
  private stateOutage = false;
  private readonly closing = new AbortController();
  private readonly log: Logger;
  private readonly receivedCounters = new Map<string, Record<'telemetry' | 'state', { inc(): void }>>();

  constructor(
    @Inject(INGEST_TELEMETRY) telemetry: TelemetryRepository,
    private readonly presence: DevicePresenceRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(LATE_ROWS) lateRows: LateRows,
  ) {
    this.log = logger.child({ component: 'ingest' });
    const { payloads } = config;
    this.limits = {
      maxPoints: config.devices.maxPointsPerMessage,
      maxJsonDepth: payloads.jsonMaxDepth,
      minTimeMs: payloads.telemetryMinTimeMs,
      maxFutureMs: payloads.telemetryMaxFutureMs,
    };
    const writer = (options: TelemetryWriterOptions, writeBatch: WriteBatch) =>
      new TelemetryWriter(options, {
        writeBatch,
        onCommitted: (batch, committedAt, messages, xid) => {
          metrics.rowsWritten.inc(batch.times.length);
          hubEvents.emit({ type: 'telemetry', batch, committedAt, messages, xid });
        },
        onPressure: () => this.updatePressure(),
        onFlush: (rows, durationMs) => {
          metrics.batchRows.observe(rows);
          metrics.flushSeconds.observe(durationMs / 1000);
        },
        onRefused: (rows, error) => this.log.warn({ rows, err: error }, 'the database refused a telemetry message'),
        log: this.log,
      });
    // Late rows are rare: one transaction at a time is plenty, and leaves the pool to the fleet. They go into chunks
    // that may be compressed, written as lateLaneWriteBatch says.
    this.writer = new TelemetryLanes(
      writer(config.ingest, writeBatchWith(telemetry, config.ingest.writeMethod)),
      lateRows.ageMs === undefined
        ? undefined
        : {
            writer: writer({ ...config.ingest, maxInflight: 1 }, lateLaneWriteBatch(telemetry)),
            ageMs: lateRows.ageMs,
          },
    );
    metrics.pendingRowsSource = () => this.writer.pendingRows;
  }

  /** One listener (a second replaces the first); told at once if the backlog is already high. */
  setListener(listener: IngestListener): void {
    this.listener = listener;
    if (this.pressure) listener.pressure(true);
  }

  /** Rows accepted and not yet committed. */
  get pendingRows(): number {
    return this.writer.pendingRows;
  }

  /** Resolves once everything accepted so far is committed. */
  drain(): Promise<void> {
    return this.writer.flush();
  }

  /** Stops taking telemetry (it is answered `unavailable`, shutting down) and commits what was accepted. */
  close(): Promise<void> {
    return this.writer.close();
  }

  onModuleDestroy(): void {
    this.closing.abort();
  }

  /** Either writer's backlog above its high-water mark stops reading devices, until both are below the low one. */
  private updatePressure(): void {
    // Called from the writers' hooks, which may run while the constructor is still building them.
    const high = this.writer?.underPressure ?? false;
    if (high === this.pressure) return;
    this.pressure = high;
    if (high) this.metrics.backPressurePauses.inc();
    this.listener.pressure(high);
  }

  /**
   * Why a new message should not be taken now, for transports that cannot stall a device (HTTP): the database
   * is unavailable, or the ingest backlog is above its high-water mark. Undefined when messages are welcome.
   */
  unavailability(): Unavailability | undefined {
    if (this.writer.databaseUnavailable || this.stateOutage) return this.databaseUnavailable();
    if (this.writer.underPressure) {
      return {
        ok: false,
        code: 'overloaded',
        message: 'the hub has more telemetry waiting to be written than it buffers; send the message again later',
        retryAfterSeconds: 1,
      };
    }
    return undefined;
  }

  async ingestTelemetry(
    deviceId: string,
    transport: string,
    payload: DevicePayload,
    receivedAt = Date.now(),
  ): Promise<IngestOutcome> {
    const json = this.toJson(payload);
    if (!json.ok) return this.reject(deviceId, transport, 'telemetry', json.code, json.message);
    const points = toTelemetryPoints(json.value, receivedAt, this.limits);
    if (!points.ok) return this.reject(deviceId, transport, 'telemetry', points.code, points.message);
    this.countReceived(transport, 'telemetry');
    this.listener.heard(deviceId);
    try {
      await this.writer.write(deviceId, points.value);
    } catch (error) {
      if (error instanceof WriterClosedError) return shuttingDown();
      if (error instanceof RowsRefusedError) {
        return this.reject(deviceId, transport, 'telemetry', 'data_rejected', describeDataError(error.cause));
      }
      throw error;
    }
    return { ok: true, rows: points.value.length };
  }

  async reportState(
    deviceId: string,
    transport: string,
    payload: DevicePayload,
    options: ReportStateOptions = { waitForDatabase: true },
  ): Promise<IngestOutcome> {
    const json = this.toJson(payload);
    if (!json.ok) return this.reject(deviceId, transport, 'state', json.code, json.message);
    const patch = toStatePatch(json.value, this.limits.maxJsonDepth);
    if (!patch.ok) return this.reject(deviceId, transport, 'state', patch.code, patch.message);
    this.countReceived(transport, 'state');
    const outcome = await this.stateMerges.run(deviceId, () => this.mergeState(deviceId, patch.value, options));
    if (!outcome.ok && !('retryAfterSeconds' in outcome)) {
      return this.reject(deviceId, transport, 'state', outcome.code, outcome.message);
    }
    return outcome;
  }

  /** prom-client hashes a label object on every inc(): the children of each transport are bound once. */
  private countReceived(transport: string, kind: 'telemetry' | 'state'): void {
    let counters = this.receivedCounters.get(transport);
    if (!counters) {
      const received = this.metrics.messagesReceived;
      counters = { telemetry: received.labels(transport, 'telemetry'), state: received.labels(transport, 'state') };
      this.receivedCounters.set(transport, counters);
    }
    counters[kind].inc();
  }

  /** Whether `payload` would be accepted as a state report, without applying it (an MQTT will, checked at CONNECT). */
  checkState(payload: DevicePayload): PayloadResult<Record<string, unknown>> {
    const json = this.toJson(payload);
    return json.ok ? toStatePatch(json.value, this.limits.maxJsonDepth) : json;
  }

  /** For messages refused before they reach ingest (wrong topic, too large). */
  recordRejected(
    deviceId: string | null,
    transport: string,
    code: string,
    message: string,
    detail: Record<string, unknown> = {},
  ): void {
    this.metrics.messagesRejected.inc({ transport, reason: code });
    this.recorder.record(deviceId, 'message_rejected', { transport, code, message, ...detail });
  }

  /** Merges, retrying while the database is unavailable (if the caller can wait); a data error is a refusal. */
  private async mergeState(
    deviceId: string,
    patch: Record<string, unknown>,
    options: ReportStateOptions,
  ): Promise<IngestOutcome> {
    const maxBytes = this.config.payloads.stateMaxBytes;
    for (let attempt = 1; ; attempt++) {
      if (this.closing.signal.aborted) return shuttingDown();
      try {
        const merged = await this.presence.mergeReportedState(deviceId, patch, maxBytes);
        this.stateRecovered();
        if (merged.kind === 'too_large') {
          return {
            ok: false,
            code: 'state_too_large',
            message: `the merged state would be ${merged.bytes} bytes; at most ${maxBytes} (TELEHUB_STATE_MAX_BYTES). Remove keys by reporting them as null`,
          };
        }
        if (merged.kind === 'merged') {
          this.hubEvents.emit({ type: 'state', deviceId, state: merged.state, updatedAt: merged.updatedAt });
        }
        return { ok: true, rows: 0 };
      } catch (error) {
        if (isDataError(error)) {
          this.stateRecovered();
          return { ok: false, code: 'data_rejected', message: describeDataError(error) };
        }
        if (!this.stateOutage) {
          this.stateOutage = true;
          this.log.error({ err: error }, 'database unavailable: state reports wait until it recovers');
        }
        if (!options.waitForDatabase) return this.databaseUnavailable();
        const delayMs = backoffDelay(attempt, {
          initialMs: STATE_RETRY_INITIAL_MS,
          maxMs: this.config.ingest.retryMaxMs,
        });
        await abortableSleep(delayMs, this.closing.signal);
      }
    }
  }

  private databaseUnavailable(): Unavailability {
    return {
      ok: false,
      code: 'unavailable',
      message: 'the database is unavailable; send the message again later',
      retryAfterSeconds: Math.max(1, Math.ceil(this.config.ingest.retryMaxMs / 1000)),
    };
  }

  private stateRecovered(): void {
    if (!this.stateOutage) return;
    this.stateOutage = false;
    this.log.info('database available again: state reports resumed');
  }

  private toJson(payload: DevicePayload): PayloadResult<unknown> {
    if (typeof payload === 'object' && !Buffer.isBuffer(payload)) return { ok: true, value: payload.json };
    return parseJson(payload, this.limits.maxJsonDepth);
  }

  private reject(
    deviceId: string,
    transport: string,
    kind: string,
    code: PayloadErrorCode,
    message: string,
  ): IngestOutcome {
    this.recordRejected(deviceId, transport, code, message, { kind });
    return { ok: false, code, message };
  }
}

/** A device message as sent: raw bytes (MQTT, HTTP) or JSON a transport has already parsed (WebSocket frames). */
export type DevicePayload = Buffer | string | { json: unknown };

/** The writer's writeBatch hook for TELEHUB_INGEST_WRITE_METHOD; both resolve to the committing transaction's id. */
type WriteBatch = (batch: TelemetryBatch, latest: TelemetryBatch) => Promise<string | undefined>;

function writeBatchWith(telemetry: TelemetryRepository, method: IngestSettings['writeMethod']): WriteBatch {
  return method === 'copy'
    ? (batch, latest) => telemetry.copyBatchWithLatest(batch, latest, 'binary')
    : (batch, latest) => telemetry.insertBatchWithLatest(batch, latest);
}

function shuttingDown(): Unavailability {
  return { ok: false, code: 'unavailable', message: 'the hub is shutting down', retryAfterSeconds: 5 };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
