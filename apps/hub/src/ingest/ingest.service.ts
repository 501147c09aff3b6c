import { Inject, Injectable } from '@nestjs/common';
import { DevicePresenceRepository, TelemetryRepository } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { DeviceEventRecorder } from '../events/device-event.recorder.js';
import { HubEvents } from '../events/hub-events.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { DeviceSessionRegistry } from '../sessions/device-session.registry.js';
import { type PayloadErrorCode, parseJson, toStatePatch, toTelemetryPoints } from './telemetry-payload.js';
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
  private readonly pressureListeners = new Set<(high: boolean) => void>();

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
      onCommitted: (points, committedAt) => {
        metrics.rowsWritten.inc(points.length);
        hubEvents.emit({ type: 'telemetry', points, committedAt });
      },
      onPressure: (high) => {
        if (high) metrics.backPressurePauses.inc();
        for (const listener of this.pressureListeners) listener(high);
      },
      onFlush: (rows, durationMs) => {
        metrics.batchRows.observe(rows);
        metrics.flushSeconds.observe(durationMs / 1000);
      },
      log: logger.child({ component: 'ingest' }),
    });
    metrics.pendingRowsSource = () => this.writer.pendingRows;
  }

  onPressure(listener: (high: boolean) => void): void {
    this.pressureListeners.add(listener);
  }

  /** `payload`: the raw bytes (MQTT, HTTP) or already-parsed JSON (a WebSocket frame's `data`). */
  async ingestTelemetry(
    deviceId: string,
    transport: string,
    payload: Buffer | string | { json: unknown },
    receivedAt = Date.now(),
  ): Promise<IngestOutcome> {
    const json = isParsed(payload) ? { ok: true as const, value: payload.json } : parseJson(payload);
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

  async reportState(
    deviceId: string,
    transport: string,
    payload: Buffer | string | { json: unknown },
  ): Promise<IngestOutcome> {
    const json = isParsed(payload) ? { ok: true as const, value: payload.json } : parseJson(payload);
    if (!json.ok) return this.reject(deviceId, transport, 'state', json.code, json.message);
    const patch = toStatePatch(json.value);
    if (!patch.ok) return this.reject(deviceId, transport, 'state', patch.code, patch.message);
    this.metrics.messagesReceived.inc({ transport, kind: 'state' });
    const merged = await this.presence.mergeReportedState(deviceId, patch.value);
    if (merged) this.hubEvents.emit({ type: 'state', deviceId, state: merged.state, updatedAt: merged.updatedAt });
    return { ok: true, rows: 0 };
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

function isParsed(payload: Buffer | string | { json: unknown }): payload is { json: unknown } {
  return typeof payload === 'object' && !Buffer.isBuffer(payload);
}
