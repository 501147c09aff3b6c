import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@telehub/contracts';
import {
  type CommandOutcome,
  DEFAULT_RECONNECT_POLICY,
  type DeviceClient,
  type DeviceClientError,
  type DeviceCommand,
  type Random,
  type TelemetryPoint,
  TelemetryWalk,
} from '@telehub/device-client';
import type { DeviceCredentials } from './device-roster.js';
import type { SimulatorStats } from './simulator-stats.js';

/**
 * Messages a device may have in flight before it skips a beat: a hub that acknowledges slowly gets fewer
 * messages instead of an ever-growing backlog in the simulator.
 */
export const MAX_UNACKNOWLEDGED = 10;

export interface DeviceBehaviour {
  intervalMs: number;
  jitter: number;
  batch: number;
  failShare: number;
  commandDelayMs: number;
}

/** Where a device reports trouble: `error` counts as an error, `notice` (a dropped connection) does not. */
export interface DeviceReporter {
  error(code: string, message: string): void;
  notice(code: string, message: string): void;
}

/**
 * One simulated device: a DeviceClient (the same the tests and benchmarks use), a sensor that follows a
 * random walk, a send loop at a jittered interval, and a command handler that takes a moment and then
 * succeeds or, for a share of commands, fails.
 */
export class SimulatedDevice {
  private readonly walk: TelemetryWalk;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private unacknowledged = 0;

  constructor(
    readonly credentials: DeviceCredentials,
    private readonly client: DeviceClient,
    private readonly random: Random,
    private readonly behaviour: DeviceBehaviour,
    private readonly stats: SimulatorStats,
    private readonly reporter: DeviceReporter,
  ) {
    this.walk = new TelemetryWalk(random);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connects (retrying with backoff unless refused for good), then sends until stop(). */
  async start(): Promise<void> {
    const { client, stats } = this;
    client.on('connected', () => void this.reportState());
    client.on('disconnected', (info) => {
      stats.disconnects += 1;
      const message = `${this.credentials.name}: ${info.message}`;
      if (info.willReconnect) this.reporter.notice(info.code, `${message}; reconnecting`);
      else this.error(info.code, `${message}; gave up`);
    });
    client.on('error', (error) => this.error(error.code, `${this.credentials.name}: ${error.message}`));
    client.on('commandResult', (_command, outcome) => {
      if (outcome.status === 'ok') stats.commandsSucceeded += 1;
      else stats.commandsFailed += 1;
    });
    await client.onCommand((command) => this.runCommand(command));
    if (await this.connect()) this.schedule(this.random() * this.behaviour.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.client.close();
  }

  private async connect(): Promise<boolean> {
    for (let attempt = 1; !this.stopping.signal.aborted; attempt += 1) {
      try {
        await this.client.connect();
        return true;
      } catch (caught) {
        const error = caught as DeviceClientError;
        if (this.stopping.signal.aborted) return false;
        this.error(error.code, `${this.credentials.name}: ${error.message}`);
        if (error.terminal) return false;
        const delay = backoffDelay(attempt, DEFAULT_RECONNECT_POLICY, this.random);
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
    return false;
  }

  private schedule(delayMs: number): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    const { intervalMs, jitter } = this.behaviour;
    this.schedule(intervalMs * (1 + jitter * (2 * this.random() - 1)));
    if (!this.client.connected) return;
    if (this.unacknowledged >= MAX_UNACKNOWLEDGED) {
      this.stats.skipped += 1;
      return;
    }
    const message = this.nextMessage();
    const points = message.reduce(
      (sum, point) => sum + Object.keys(point).length - (point.ts === undefined ? 0 : 1),
      0,
    );
    this.unacknowledged += 1;
    this.stats.messagesSent += 1;
    this.client
      .sendTelemetry(message.length === 1 ? message[0]! : message)
      .then(
        () => {
          this.stats.messagesAcked += 1;
          this.stats.pointsAcked += points;
        },
        (error: DeviceClientError) => this.error(error.code, `${this.credentials.name}: ${error.message}`),
      )
      .finally(() => {
        this.unacknowledged -= 1;
      });
  }

  /** One point, timed by the hub on receipt; or a batch sampled evenly over the last interval, each with its ts. */
  private nextMessage(): TelemetryPoint[] {
    const { batch, intervalMs } = this.behaviour;
    if (batch === 1) return [this.walk.next()];
    const now = Date.now();
    const spacing = intervalMs / batch;
    return Array.from({ length: batch }, (_, index) => ({
      ts: Math.round(now - (batch - 1 - index) * spacing),
      ...this.walk.next(),
    }));
  }

  private async reportState(): Promise<void> {
    try {
      await this.client.reportState({ firmware: 'simulator-1.0.0', model: 'telehub-sim', batch: this.behaviour.batch });
    } catch (caught) {
      const error = caught as DeviceClientError;
      this.error(error.code, `${this.credentials.name}: state report: ${error.message}`);
    }
  }

  private async runCommand(command: DeviceCommand): Promise<CommandOutcome> {
    this.stats.commandsReceived += 1;
    const tookMs = Math.round(this.behaviour.commandDelayMs * (0.5 + this.random()));
    // Not cancelled by stop(): the handler finishes, and its result goes out if the connection is still there.
    await sleep(tookMs, undefined, { ref: false });
    if (this.random() < this.behaviour.failShare) {
      return { status: 'error', error: `simulated failure of ${command.name}`, result: { tookMs } };
    }
    return { status: 'ok', result: { command: command.name, tookMs } };
  }

  private error(code: string, message: string): void {
    // close() ends the connection on purpose: not an error.
    if (this.stopping.signal.aborted && (code === 'ERR_CLOSED' || code === 'ERR_NOT_CONNECTED')) return;
    this.reporter.error(code, message);
  }
}
