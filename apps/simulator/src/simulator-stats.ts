/** Counters of one simulator run, shared by all its devices. */
export class SimulatorStats {
  messagesSent = 0;
  messagesAcked = 0;
  pointsAcked = 0;
  /** Ticks skipped because the device already had MAX_UNACKNOWLEDGED messages in flight. */
  skipped = 0;
  errors = 0;
  disconnects = 0;
  commandsReceived = 0;
  commandsSucceeded = 0;
  commandsFailed = 0;
  lastError: string | undefined;
  private readonly errorCodes = new Set<string>();
  private lastSample = { at: Date.now(), acked: 0 };

  /** Counts an error; true the first time this code is seen, so the caller can print it once. */
  recordError(code: string, message: string): boolean {
    this.errors += 1;
    this.lastError = message;
    return this.firstOf(code);
  }

  /** True the first time this code is seen. */
  firstOf(code: string): boolean {
    if (this.errorCodes.has(code)) return false;
    this.errorCodes.add(code);
    return true;
  }

  /** Acknowledged messages per second since the previous call. */
  sampleRate(now = Date.now()): number {
    const seconds = (now - this.lastSample.at) / 1000;
    const rate = seconds > 0 ? (this.messagesAcked - this.lastSample.acked) / seconds : 0;
    this.lastSample = { at: now, acked: this.messagesAcked };
    return rate;
  }
}

const count = new Intl.NumberFormat('en-US');
const rate = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export interface StatusSnapshot {
  connected: number;
  devices: number;
  messagesPerSecond: number;
  stats: SimulatorStats;
}

/** One line: `98/100 connected · 97.3 msg/s · 1,234 acked · 0 errors · commands 2 ok, 1 failed`. */
export function formatStatus({ connected, devices, messagesPerSecond, stats }: StatusSnapshot): string {
  const parts = [
    `${count.format(connected)}/${count.format(devices)} connected`,
    `${rate.format(messagesPerSecond)} msg/s`,
    `${count.format(stats.messagesAcked)} acked`,
    `${count.format(stats.errors)} errors`,
    `commands ${count.format(stats.commandsSucceeded)} ok, ${count.format(stats.commandsFailed)} failed`,
  ];
  if (stats.disconnects > 0) parts.push(`${count.format(stats.disconnects)} dropped connections`);
  if (stats.skipped > 0) parts.push(`${count.format(stats.skipped)} ticks skipped (hub slow to ack)`);
  return parts.join(' · ');
}

export interface SimulatorSummary {
  devices: number;
  durationMs: number;
  messagesSent: number;
  messagesAcked: number;
  pointsAcked: number;
  errors: number;
  disconnects: number;
  commandsReceived: number;
  commandsSucceeded: number;
  commandsFailed: number;
}

export function summarize(stats: SimulatorStats, devices: number, durationMs: number): SimulatorSummary {
  return {
    devices,
    durationMs,
    messagesSent: stats.messagesSent,
    messagesAcked: stats.messagesAcked,
    pointsAcked: stats.pointsAcked,
    errors: stats.errors,
    disconnects: stats.disconnects,
    commandsReceived: stats.commandsReceived,
    commandsSucceeded: stats.commandsSucceeded,
    commandsFailed: stats.commandsFailed,
  };
}

export function formatSummary(summary: SimulatorSummary): string {
  const seconds = summary.durationMs / 1000;
  const perSecond = seconds > 0 ? summary.messagesAcked / seconds : 0;
  return [
    `Stopped after ${rate.format(seconds)} s with ${count.format(summary.devices)} devices:`,
    `  ${count.format(summary.messagesAcked)} of ${count.format(summary.messagesSent)} messages acknowledged` +
      ` (${count.format(summary.pointsAcked)} points, ${rate.format(perSecond)} msg/s)`,
    `  ${count.format(summary.commandsSucceeded + summary.commandsFailed)} commands answered` +
      ` (${count.format(summary.commandsFailed)} failed on purpose)`,
    `  ${count.format(summary.errors)} errors, ${count.format(summary.disconnects)} dropped connections`,
  ].join('\n');
}
