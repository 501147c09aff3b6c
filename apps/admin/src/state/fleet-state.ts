import type { AdminFleetMessage } from '@telehub/contracts';
import type { AdminSocket } from '../api/admin-socket.js';
import { LiveSeries } from '../charts/live-series.js';
import { Store } from './store.js';

/** How much of the fleet's message rate the overview chart shows (it is gathered from sign-in on)… */
export const FLEET_WINDOW_MS = 15 * 60_000;
/** …starting with this much, and widening as the history grows, so a fresh chart is not a sliver. */
export const FLEET_MIN_WINDOW_MS = 60_000;

/** The hub's once-a-second fleet summary, and its history since this tab signed in. */
export class FleetState {
  readonly latest = new Store<AdminFleetMessage | null>(null);
  readonly messagesPerSecond = new LiveSeries();
  readonly rowsPerSecond = new LiveSeries();
  private readonly stop: () => void;
  private firstAt: number | undefined;

  constructor(socket: AdminSocket) {
    this.messagesPerSecond.reset([], [], 0);
    this.rowsPerSecond.reset([], [], 0);
    this.stop = socket.on('fleet', (message) => {
      this.firstAt ??= message.at;
      this.latest.set(message);
      this.messagesPerSecond.add([message.at], [message.messagesPerSecond]);
      this.rowsPerSecond.add([message.at], [message.rowsPerSecond]);
      this.messagesPerSecond.trimBefore(message.at - FLEET_WINDOW_MS);
      this.rowsPerSecond.trimBefore(message.at - FLEET_WINDOW_MS);
    });
  }

  /** The chart's window: as long as the history, between FLEET_MIN_WINDOW_MS and FLEET_WINDOW_MS. */
  readonly windowMs = (): number => {
    const gathered = this.firstAt === undefined ? 0 : Date.now() - this.firstAt;
    return Math.min(FLEET_WINDOW_MS, Math.max(FLEET_MIN_WINDOW_MS, gathered * 1.1));
  };

  dispose(): void {
    this.stop();
  }
}
