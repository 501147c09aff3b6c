import type { CommandMessage, CommandResultPayload } from '@telehub/contracts';
import type { DeviceClientError } from './device-client.error.js';

/** `mqtt`: MQTT 3.1.1 (protocol level 4); `mqtt5`: MQTT 5; `ws`: the hub's JSON-over-WebSocket protocol. */
export type DeviceTransport = 'mqtt' | 'mqtt5' | 'ws';

export const DEVICE_TRANSPORTS: readonly DeviceTransport[] = ['mqtt', 'mqtt5', 'ws'];

/** One sample: metric → number (booleans are stored as 1/0), with an optional time (epoch ms or RFC 3339). */
export interface TelemetryPoint {
  ts?: number | string;
  [metric: string]: number | boolean | string | undefined;
}

/** A telemetry message: one point, or a batch of points (see docs/device-protocol.md, "Telemetry"). */
export type TelemetryMessage = TelemetryPoint | readonly TelemetryPoint[];

/** What the hub sends: `{"id","name","params","expiresAt"}`. */
export type DeviceCommand = CommandMessage;

/** What the device answers: `{"status":"ok"|"error","result"?,"error"?}`. */
export type CommandOutcome = CommandResultPayload;

/** Runs one command. A throw or a rejection becomes a failed result carrying the error's message. */
export type CommandHandler = (command: DeviceCommand) => Promise<CommandOutcome> | CommandOutcome;

export interface DisconnectInfo {
  code: DeviceClientError['code'];
  message: string;
  /** False when the client has stopped for good (no reconnect policy, or a terminal refusal). */
  willReconnect: boolean;
}

export interface ReconnectInfo {
  /** Counts from 1 since the connection was lost. */
  attempt: number;
  delayMs: number;
}

export interface DeviceClientEvents {
  /** The connection is up (and subscribed to commands when a handler is set); also after each reconnect. */
  connected: [];
  /** An established connection ended without close(); pending sends were rejected with ERR_CONNECTION_LOST. */
  disconnected: [info: DisconnectInfo];
  /** A reconnect attempt is scheduled. */
  reconnecting: [info: ReconnectInfo];
  /** The hub acknowledged a command result the device sent (it is stored). */
  commandResult: [command: DeviceCommand, outcome: CommandOutcome];
  /**
   * Something went wrong outside a call the application awaits: an unreadable command, a result the hub
   * refused. Emitted only while someone listens, so an unobserved client does not crash the process.
   */
  error: [error: DeviceClientError];
}

/**
 * A device's connection to the hub, the same over MQTT 3.1.1, MQTT 5 and JSON over WebSocket. Every send
 * resolves once the hub has acknowledged it, which it does only after the data is committed.
 */
export interface DeviceClient {
  readonly deviceId: string;
  readonly transport: DeviceTransport;
  readonly connected: boolean;
  /** One connection attempt; rejects with a DeviceClientError (ERR_UNAUTHORIZED, ERR_CONNECT_FAILED, …). */
  connect(): Promise<void>;
  /** Resolves on the PUBACK or ack frame. MQTT 3.1.1 has no negative PUBACK: a refused message resolves too. */
  sendTelemetry(message: TelemetryMessage): Promise<void>;
  /** Merges into the device's reported state; a `null` value removes the key. */
  reportState(state: Record<string, unknown>): Promise<void>;
  /**
   * Takes commands from now on (MQTT: subscribes to devices/{id}/commands at QoS 1; resolves on the SUBACK).
   * Each command is acknowledged (WebSocket), run once even if delivered again, and its result sent back.
   */
  onCommand(handler: CommandHandler): Promise<void>;
  /** Waits (bounded) for unacknowledged sends, then disconnects properly (MQTT DISCONNECT, WebSocket 1000). */
  close(): Promise<void>;
  on<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
  once<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
  off<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
}
