/**
 * Closes a session that has sent no packet for `timeoutMs` (keep-alive × 1.5 [MQTT-3.1.2-24]). Packets only record
 * a timestamp; the single timer re-arms itself for the time left, so a busy session costs no timer churn.
 * While the session is not reading (paused, or waiting on its own back-pressure) the silence is ours, not the
 * client's, so it does not count.
 */
export class KeepAliveTimer {
  private lastSeen = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly isReading: () => boolean,
    private readonly onTimeout: () => void,
  ) {}

  start(): void {
    this.touch();
    this.schedule(this.timeoutMs);
  }

  touch(): void {
    this.lastSeen = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(this.check, delayMs);
    this.timer.unref();
  }

  private readonly check = (): void => {
    const now = Date.now();
    if (!this.isReading()) this.lastSeen = now;
    const idle = now - this.lastSeen;
    if (idle >= this.timeoutMs) {
      this.timer = undefined;
      this.onTimeout();
    } else {
      this.schedule(this.timeoutMs - idle);
    }
  };
}
