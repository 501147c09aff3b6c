import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DeviceEventRepository, isDataError, type NewDeviceEvent } from '@telehub/db';
import type { Logger } from 'pino';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { LOGGER } from '../logging/logger.token.js';
import { HubMetrics } from '../metrics/hub-metrics.js';
import { cleanEventDetail } from './event-detail.js';
import { HubEvents } from './hub-events.js';

/** What one flush has done with its events so far: written (in order) or dropped as refused by the database. */
interface SettledEvents {
  written: NewDeviceEvent[];
  dropped: Set<NewDeviceEvent>;
}

/**
 * Records why devices misbehave (connects, disconnects and their reasons, auth failures, rejected
 * messages) in device_events. Buffered and written in one statement every quarter second (TELEHUB_EVENTS_FLUSH_MS), so a device
 * stuck in a reconnect loop costs the database a row, not a transaction. Events are diagnostics, not
 * telemetry: when the buffer is full (TELEHUB_EVENTS_MAX_BUFFERED: the database is down or cannot keep up), the
 * oldest are dropped and
 * counted. Much of what events hold comes from unauthenticated clients (client ids, topics), so every string is
 * cleaned and cut before it is buffered, and an event the database still refuses is dropped alone: one bad row
 * must never stop the log.
 */
@Injectable()
export class DeviceEventRecorder implements OnModuleDestroy {
  private buffer: NewDeviceEvent[] = [];
  /** Dropped because the buffer was full, since the last report. */
  private overflowed = 0;
  /** Writes failed for availability since the last success. */
  private failedWrites = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly events: DeviceEventRepository,
    private readonly hubEvents: HubEvents,
    private readonly metrics: HubMetrics,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), config.deviceEvents.flushIntervalMs).unref();
  }

  record(deviceId: string | null, type: string, detail: Record<string, unknown> = {}, at = Date.now()): void {
    if (this.buffer.length >= this.config.deviceEvents.maxBuffered) {
      this.buffer.shift();
      this.overflowed += 1;
      this.metrics.deviceEventsDropped.inc({ reason: 'buffer_full' });
    }
    const clean = cleanEventDetail(detail, this.config.payloads.eventStringMaxBytes);
    this.buffer.push({ deviceId, type, detail: clean, time: at });
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const settled: SettledEvents = { written: [], dropped: new Set() };
    this.flushing = this.write(batch, settled)
      .then(() => {
        this.emit(settled.written);
        this.reportOverflow();
        if (this.failedWrites > 0) {
          this.logger.info({ failedWrites: this.failedWrites }, 'device events are written again');
          this.failedWrites = 0;
        }
      })
      .catch((error: unknown) => {
        // Unavailable: keep the events (the newest, if the buffer filled meanwhile) and try again next tick. A
        // split batch may have been written in part before the database went away: only the rest waits, so no
        // event is written twice (or counted as refused twice).
        this.emit(settled.written);
        const written = new Set(settled.written);
        const unsettled = batch.filter((event) => !written.has(event) && !settled.dropped.has(event));
        this.buffer = unsettled.concat(this.buffer);
        const excess = this.buffer.length - this.config.deviceEvents.maxBuffered;
        if (excess > 0) {
          this.buffer = this.buffer.slice(excess);
          this.overflowed += excess;
          this.metrics.deviceEventsDropped.inc({ reason: 'buffer_full' }, excess);
        }
        if (this.failedWrites === 0) {
          this.logger.warn({ err: error }, 'could not write device events; keeping them and retrying');
        }
        this.failedWrites += 1;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Writes the batch, noting in `settled` what was written and what dropped; rejects only when the database is
   * unavailable. A batch refused for its data is split in halves until the refused events are alone, and those
   * are dropped: the rest are written.
   */
  private async write(batch: NewDeviceEvent[], settled: SettledEvents): Promise<void> {
    try {
      await this.events.insertMany(batch);
      settled.written.push(...batch);
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (batch.length === 1) {
        settled.dropped.add(batch[0]!);
        this.metrics.deviceEventsDropped.inc({ reason: 'refused_by_database' });
        this.logger.warn(
          { err: error, deviceId: batch[0]!.deviceId, type: batch[0]!.type },
          'the database refused a device event; dropped it',
        );
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.write(batch.slice(0, half), settled);
      await this.write(batch.slice(half), settled);
    }
  }

  private emit(written: NewDeviceEvent[]): void {
    for (const event of written) {
      this.hubEvents.emit({
        type: 'device_event',
        deviceId: event.deviceId,
        eventType: event.type,
        detail: event.detail,
        at: event.time,
      });
    }
  }

  private reportOverflow(): void {
    if (this.overflowed === 0) return;
    this.logger.warn(
      { dropped: this.overflowed, buffered: this.config.deviceEvents.maxBuffered, failedWrites: this.failedWrites },
      this.failedWrites > 0
        ? 'device event buffer was full while the database was unavailable: dropped the oldest events'
        : 'device events came faster than the database took them: the buffer was full, dropped the oldest events',
    );
    this.overflowed = 0;
  }
}
