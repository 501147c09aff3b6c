import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { FleetSummary } from '@telehub/contracts';
import { type FleetCounts, FleetRepository } from '@telehub/db';
import { HubEvents } from '../events/hub-events.js';
import { RateWindow } from './rate-window.js';

/** "Over the last minute", as the fleet overview states its rates. */
const RATE_WINDOW_SECONDS = 60;
/**
 * Counting the fleet reads every device row; the overview pushes the counts every second, and the device list's
 * unfiltered totals are the same counts: callers within a second share one count.
 */
const COUNTS_MAX_AGE_MS = 1000;

/**
 * Devices, devices online, and the telemetry this hub process committed per second (messages and rows),
 * counted from the event stream in per-second slots. The admin channel reads it every second.
 */
@Injectable()
export class FleetSummaryService implements OnModuleDestroy {
  private readonly messages = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly rows = new RateWindow(RATE_WINDOW_SECONDS);
  private readonly unsubscribe: () => void;
  /** Callers asking at the same moment share one database read… */
  private counting: Promise<FleetCounts> | undefined;
  /** …and callers within COUNTS_MAX_AGE_MS of it, its result. */
  private counted: { at: number; counts: FleetCounts } | undefined;

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
    return { ...(await this.counts()), ...this.rates() };
  }

  /** Devices, connected (online) and active without a session, at most COUNTS_MAX_AGE_MS old. */
  async counts(): Promise<FleetCounts> {
    const startedAt = Date.now();
    if (this.counted && startedAt - this.counted.at < COUNTS_MAX_AGE_MS) return this.counted.counts;
    this.counting ??= this.fleet
      .counts()
      .then((counts) => {
        this.counted = { at: startedAt, counts };
        return counts;
      })
      .finally(() => {
        this.counting = undefined;
      });
    return this.counting;
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }
}
