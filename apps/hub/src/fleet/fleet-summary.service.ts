import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { FleetSummary } from '@telehub/contracts';
import { FleetRepository } from '@telehub/db';
import { HubEvents } from '../events/hub-events.js';
import { RateWindow } from './rate-window.js';

/** "Over the last minute", as the fleet overview states its rates. */
const RATE_WINDOW_SECONDS = 60;

/**
 * Devices, devices online, and the telemetry this hub process committed per second (messages and rows),
 * counted from the event stream in per-second slots. The admin channel reads it every second.
 */
@Injectable()
export class FleetSummaryService implements OnModuleDestroy {
  private readonly messages = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly rows = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly unsubscribe: () => void;
  /** Callers asking at the same moment share one database read. */
  private counting: ReturnType<FleetRepository['counts']> | undefined;

  constructor(
    private readonly fleet: FleetRepository,
    events: HubEvents,
  ) {
    this.unsubscribe = events.on('telemetry', (event) => {
      this.messages.add(event.messages ?? 0, event.committedAt);
      this.rows.add(event.batch.times.length, event.committedAt);
    });
  }

  /** Committed per second over the last minute; no database read. */
  rates(now = Date.now()): Pick<FleetSummary, 'messagesPerSecond' | 'rowsPerSecond'> {
    return { messagesPerSecond: this.messages.perSecond(now), rowsPerSecond: this.rows.perSecond(now) };
  }

  async summary(): Promise<FleetSummary> {
    this.counting ??= this.fleet.counts().finally(() => {
      this.counting = undefined;
    });
    const counts = await this.counting;
    return { ...counts, ...this.rates() };
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
