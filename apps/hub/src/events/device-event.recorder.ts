import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DeviceEventRepository, type NewDeviceEvent } from '@telehub/db';
import type { Logger } from 'pino';
import { LOGGER } from '../logging/logger.token.js';
import { HubEvents } from './hub-events.js';

const FLUSH_INTERVAL_MS = 250;
const MAX_BUFFERED = 10_000;

/**
 * Records why devices misbehave (connects, disconnects and their reasons, auth failures, rejected
 * messages) in device_events. Buffered and written in one statement every quarter second, so a device
 * stuck in a reconnect loop costs the database a row, not a transaction. Events are diagnostics, not
 * telemetry: if the buffer overflows during a database outage, the oldest are dropped and counted.
 */
@Injectable()
export class DeviceEventRecorder implements OnModuleDestroy {
  private buffer: NewDeviceEvent[] = [];
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly events: DeviceEventRepository,
    private readonly hubEvents: HubEvents,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS).unref();
  }

  record(deviceId: string | null, type: string, detail: Record<string, unknown> = {}, at = Date.now()): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.buffer.shift();
      this.dropped += 1;
    }
    this.buffer.push({ deviceId, type, detail, time: at });
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.events
      .insertMany(batch)
      .then(() => {
        for (const event of batch) {
          this.hubEvents.emit({
            type: 'device_event',
            deviceId: event.deviceId,
            eventType: event.type,
            detail: event.detail,
            at: event.time,
          });
        }
        if (this.dropped > 0) {
          this.logger.warn({ dropped: this.dropped }, 'device events were dropped while the database was unavailable');
          this.dropped = 0;
        }
      })
      .catch((error: unknown) => {
        this.buffer = batch.concat(this.buffer).slice(-MAX_BUFFERED);
        this.logger.debug({ err: error }, 'could not write device events; will retry');
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
}
