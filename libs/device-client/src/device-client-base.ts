import { EventEmitter } from 'node:events';
import { backoffDelay } from '@telehub/contracts';
import { CommandRunner } from './command-runner.js';
import { asDeviceClientError, DeviceClientError } from './device-client.error.js';
import type {
  CommandHandler,
  CommandOutcome,
  DeviceClient,
  DeviceClientEvents,
  DeviceCommand,
  DeviceTransport,
  TelemetryMessage,
} from './device-client.js';
import { type DeviceClientOptions, type ResolvedDeviceClientOptions, resolveOptions } from './device-client.options.js';

type Lifecycle = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

/**
 * What the MQTT and WebSocket clients share: the lifecycle (connect, reconnect with backoff, close), the guard
 * that refuses sends while disconnected, and command handling. A subclass only moves bytes: it opens one
 * connection at a time, rejects its own unacknowledged sends when that connection ends, and reports the end
 * with connectionLost().
 */
export abstract class DeviceClientBase<Route> extends EventEmitter<DeviceClientEvents> implements DeviceClient {
  abstract readonly transport: DeviceTransport;
  protected readonly options: ResolvedDeviceClientOptions;
  protected readonly commands: CommandRunner<Route>;
  private state: Lifecycle = 'idle';
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: DeviceClientOptions) {
    super();
    this.options = resolveOptions(options);
    this.commands = new CommandRunner<Route>(
      this.options.rememberedCommands,
      {
        acknowledge: (command) => this.acknowledgeCommand(command),
        sendResult: (command, outcome, route) => this.sendCommandResult(command, outcome, route),
      },
      {
        answered: (command, outcome) => this.emit('commandResult', command, outcome),
        failed: (error) => this.report(error),
      },
    );
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  async connect(): Promise<void> {
    if (this.state !== 'idle') {
      throw new DeviceClientError(
        'ERR_INVALID_STATE',
        `connect() needs a client that is not connected; it is ${this.state}`,
      );
    }
    this.state = 'connecting';
    try {
      await this.openChecked();
    } catch (error) {
      if (this.state !== 'connecting') {
        throw new DeviceClientError('ERR_CLOSED', 'the client was closed while it was connecting', { cause: error });
      }
      // Back to idle: the caller may try again.
      this.state = 'idle';
      throw asDeviceClientError(error, 'ERR_CONNECT_FAILED', `device ${this.deviceId} could not connect`);
    }
    if (this.state !== 'connecting') {
      throw new DeviceClientError('ERR_CLOSED', 'the client was closed while it was connecting');
    }
    this.becameConnected();
  }

  sendTelemetry(message: TelemetryMessage): Promise<void> {
    return this.whenConnected(() => this.publish('telemetry', message));
  }

  reportState(state: Record<string, unknown>): Promise<void> {
    return this.whenConnected(() => this.publish('state', state));
  }

  async onCommand(handler: CommandHandler): Promise<void> {
    const first = !this.commands.hasHandler;
    this.commands.setHandler(handler);
    if (first && this.connected) await this.subscribeCommands();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.state === 'idle') this.state = 'closed';
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closing';
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.closing = this.shutdown()
      .catch(() => undefined)
      .finally(() => {
        this.state = 'closed';
      });
    return this.closing;
  }

  /** One connection attempt; resolves once usable (and subscribed to commands when a handler is set). */
  protected abstract open(): Promise<void>;
  /** True while the current connection can carry messages. */
  protected abstract isOpen(): boolean;
  /** Ends the current connection properly, or abandons an attempt in progress; bounded by closeTimeoutMs. */
  protected abstract shutdown(): Promise<void>;
  /** Sends telemetry or a state report; resolves when the hub acknowledged it. */
  protected abstract publish(kind: 'telemetry' | 'state', data: unknown): Promise<void>;
  /** MQTT: SUBSCRIBE to the commands topic. WebSocket: nothing, the hub sends commands to every session. */
  protected abstract subscribeCommands(): Promise<void>;
  protected abstract acknowledgeCommand(command: DeviceCommand): Promise<void>;
  protected abstract sendCommandResult(command: DeviceCommand, outcome: CommandOutcome, route: Route): Promise<void>;

  /** A subclass calls this when an opened connection ended; ignored unless the client thought it was connected. */
  protected connectionLost(error: DeviceClientError): void {
    if (this.state !== 'connected') return;
    const willReconnect = this.options.reconnect !== undefined && !error.terminal;
    this.state = willReconnect ? 'reconnecting' : 'closed';
    this.attempt = 0;
    this.emit('disconnected', { code: error.code, message: error.message, willReconnect });
    if (willReconnect) this.scheduleReconnect();
  }

  /** The 'error' event only while someone listens: an unobserved client must not crash its process. */
  protected report(error: DeviceClientError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private whenConnected(send: () => Promise<void>): Promise<void> {
    if (!this.connected) {
      return Promise.reject(new DeviceClientError('ERR_NOT_CONNECTED', `device ${this.deviceId} is not connected`));
    }
    return send();
  }

  /** The connection may close in the same tick it opened (CONNACK and DISCONNECT in one read). */
  private async openChecked(): Promise<void> {
    await this.open();
    if (!this.isOpen()) throw new DeviceClientError('ERR_CONNECTION_LOST', 'the connection closed as it opened');
  }

  private becameConnected(): void {
    this.state = 'connected';
    this.attempt = 0;
    this.emit('connected');
    void this.commands.flush();
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    const delayMs = backoffDelay(this.attempt, this.options.reconnect!);
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => void this.reconnectNow(), delayMs);
  }

  private async reconnectNow(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.state !== 'reconnecting') return;
    try {
      await this.openChecked();
    } catch (error) {
      if (this.state !== 'reconnecting') return;
      const failure = asDeviceClientError(error, 'ERR_CONNECT_FAILED', `device ${this.deviceId} could not reconnect`);
      if (!failure.terminal) {
        this.scheduleReconnect();
        return;
      }
      this.state = 'closed';
      this.emit('disconnected', { code: failure.code, message: failure.message, willReconnect: false });
      return;
    }
    // close() during the attempt: it shuts the new connection down.
    if (this.state === 'reconnecting') this.becameConnected();
  }
}
