/** How often the status line is redrawn on a terminal… */
export const TTY_STATUS_INTERVAL_MS = 1_000;
/** …and how often a status line is printed when the output is a file or a pipe (logs stay readable). */
export const PLAIN_STATUS_INTERVAL_MS = 10_000;

export interface StatusOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

// ANSI: carriage return, then erase the whole line (CSI 2 K).
const CLEAR_LINE = '\r\u001b[2K';

/**
 * A status line refreshed in place on a terminal, or printed as plain periodic lines otherwise. Other output
 * goes through log(), which keeps the status line below it.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly output: StatusOutput,
    private readonly render: () => string,
  ) {}

  private get tty(): boolean {
    return this.output.isTTY === true;
  }

  start(): void {
    const interval = this.tty ? TTY_STATUS_INTERVAL_MS : PLAIN_STATUS_INTERVAL_MS;
    this.timer = setInterval(() => this.draw(), interval);
    this.timer.unref();
  }

  log(line: string): void {
    if (this.tty && this.shown) this.output.write(CLEAR_LINE);
    this.output.write(`${line}\n`);
    if (this.tty && this.shown) this.draw();
  }

  /** Draws a last time and ends the line, so what follows starts on its own. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    if (this.tty) this.output.write('\n');
    this.shown = false;
  }

  private draw(): void {
    const line = this.render();
    if (!this.tty) {
      this.output.write(`${new Date().toISOString()} ${line}\n`);
      return;
    }
    // A line wider than the terminal would wrap, and \r would then redraw only its last part.
    const width = this.output.columns ?? 120;
    this.output.write(`${CLEAR_LINE}${line.length >= width ? `${line.slice(0, width - 2)}…` : line}`);
    this.shown = true;
  }
}
