import { Inject, Injectable } from '@nestjs/common';
import { DevicePresenceRepository, TelemetryRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { KeyedSerialQueue } from '../common/keyed-serial-queue.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { DeviceSessionRegistry } from '../sessions/device-session.registry.js';
import {
  type PayloadErrorCode,
  type PayloadResult,
  parseJson,
  toStatePatch,
  toTelemetryPoints,
} from './telemetry-payload.js';
import { TelemetryWriter, WriterClosedError } from './telemetry-writer.js';

export type IngestOutcome =
  | { ok: true; rows: number }
  | { ok: false; code: PayloadErrorCode | 'unavailable'; message: string };

/**
 * Telemetry and state from any transport: validate, hand to the one batching writer, and answer only once
 * the data is committed. Rejected messages are counted and recorded with their reason.
 */
@Injectable()
export class IngestService {
  readonly writer: TelemetryWriter;
  /**
   * A device's state merges run one after another: transports handle a device's messages concurrently, and two
   * reports of the same key must land in the order they were sent.
   */
  private readonly stateMerges = new KeyedSerialQueue();

  constructor(
    telemetry: TelemetryRepository,
    private readonly presence: DevicePresenceRepository,
    private readonly recorder: DeviceEventRecorder,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    private readonly registry: DeviceSessionRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.writer = new TelemetryWriter(config.ingest, {
      writeBatch: (batch, latest) => telemetry.insertBatchWithLatest(batch, latest),
      onCommitted: (batch, committedAt, messages, xid) => {
        metrics.rowsWritten.inc(batch.times.length);
        hubEvents.emit({ type: 'telemetry', batch, committedAt, messages, xid });
      },
      onPressure: (high) => {
        if (high) metrics.backPressurePauses.inc();
        registry.setPressure(high);
      },
      onFlush: (rows, durationMs) => {
        metrics.batchRows.observe(rows);
        metrics.flushSeconds.observe(durationMs / 1000);
      },
      log: logger.child({ component: 'ingest' }),
    });
    metrics.pendingRowsSource = () => this.writer.pendingRows;
  }

  async ingestTelemetry(
    deviceId: string,
    transport: string,
    payload: DevicePayload,
    receivedAt = Date.now(),
  ): Promise<IngestOutcome> {
    const json = toJson(payload);
    if (!json.ok) return this.reject(deviceId, transport, 'telemetry', json.code, json.message);
    const points = toTelemetryPoints(json.value, receivedAt, this.config.devices.maxPointsPerMessage);
    if (!points.ok) return this.reject(deviceId, transport, 'telemetry', points.code, points.message);
    this.metrics.messagesReceived.inc({ transport, kind: 'telemetry' });
    this.registry.markSeen(deviceId);
    try {
      await this.writer.write(deviceId, points.value);
    } catch (error) {
      if (error instanceof WriterClosedError)
        return { ok: false, code: 'unavailable', message: 'the hub is shutting down' };
      throw error;
    }
    return { ok: true, rows: points.value.length };
  }

  async reportState(deviceId: string, transport: string, payload: DevicePayload): Promise<IngestOutcome> {
    const json = toJson(payload);
    if (!json.ok) return this.reject(deviceId, transport, 'state', json.code, json.message);
    const patch = toStatePatch(json.value);
    if (!patch.ok) return this.reject(deviceId, transport, 'state', patch.code, patch.message);
    this.metrics.messagesReceived.inc({ transport, kind: 'state' });
    await this.stateMerges.run(deviceId, async () => {
      const merged = await this.presence.mergeReportedState(deviceId, patch.value);
      if (merged) this.hubEvents.emit({ type: 'state', deviceId, state: merged.state, updatedAt: merged.updatedAt });
    });
    return { ok: true, rows: 0 };
  }

  /** Whether `payload` would be accepted as a state report, without applying it (an MQTT will, checked at CONNECT). */
  checkState(payload: DevicePayload): PayloadResult<Record<string, unknown>> {
    const json = toJson(payload);
    return json.ok ? toStatePatch(json.value) : json;
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

function toJson(payload: DevicePayload): PayloadResult<unknown> {
  if (typeof payload === 'object' && !Buffer.isBuffer(payload)) return { ok: true, value: payload.json };
  return parseJson(payload);
}
