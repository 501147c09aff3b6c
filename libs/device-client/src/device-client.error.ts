export type DeviceClientErrorCode =
  /** A send, a state report or a command reply while the client is not connected. */
  | 'ERR_NOT_CONNECTED'
  /** The connection closed before the hub acknowledged the message: it may or may not be stored. */
  | 'ERR_CONNECTION_LOST'
  /** No connection: network error, timeout, or the hub is unavailable (HTTP 503). Worth retrying. */
  | 'ERR_CONNECT_FAILED'
  /** The token was refused (CONNACK 0x05 / 0x86, HTTP 401, close 4001). Retrying will not help. */
  | 'ERR_UNAUTHORIZED'
  /** Another connection of this device took over (MQTT 5 0x8E, close 4000). Reconnecting would fight it. */
  | 'ERR_SESSION_TAKEN_OVER'
  /** The hub answered and refused the message: `reasonCode` (MQTT 5 PUBACK) or `hubCode` (WebSocket error). */
  | 'ERR_REJECTED'
  /** The hub refused the subscription to the commands topic (SUBACK failure). */
  | 'ERR_SUBSCRIBE_REFUSED'
  /** The hub sent something the client cannot read (a frame that is not JSON, a command without an id). */
  | 'ERR_PROTOCOL'
  /** close() was called. */
  | 'ERR_CLOSED'
  /** connect() on a client that is already connecting, connected or closed. */
  | 'ERR_INVALID_STATE'
  | 'ERR_INVALID_OPTIONS';

/** Codes after which the client does not reconnect: the hub will refuse it again, or it would evict itself. */
const TERMINAL: ReadonlySet<DeviceClientErrorCode> = new Set(['ERR_UNAUTHORIZED', 'ERR_SESSION_TAKEN_OVER']);

export interface DeviceClientErrorDetail {
  /** MQTT reason code (PUBACK, CONNACK, SUBACK, DISCONNECT) when the hub gave one. */
  reasonCode?: number;
  /** The hub's error code from a WebSocket error frame (`invalid_payload`, `command_final`, …). */
  hubCode?: string;
  /** HTTP status of a refused WebSocket handshake, or the WebSocket close code. */
  status?: number;
  cause?: unknown;
}

/** Every failure of the device client; `code` is stable, the message is for people. */
export class DeviceClientError extends Error {
  readonly code: DeviceClientErrorCode;
  readonly reasonCode: number | undefined;
  readonly hubCode: string | undefined;
  readonly status: number | undefined;

  constructor(code: DeviceClientErrorCode, message: string, detail: DeviceClientErrorDetail = {}) {
    super(message, detail.cause === undefined ? undefined : { cause: detail.cause });
    this.name = 'DeviceClientError';
    this.code = code;
    this.reasonCode = detail.reasonCode;
    this.hubCode = detail.hubCode;
    this.status = detail.status;
  }

  /** True when reconnecting cannot succeed or would do harm. */
  get terminal(): boolean {
    return TERMINAL.has(this.code);
  }
}

/** Wraps anything thrown by a socket library, keeping it as the cause. */
export function asDeviceClientError(error: unknown, code: DeviceClientErrorCode, prefix: string): DeviceClientError {
  if (error instanceof DeviceClientError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new DeviceClientError(code, `${prefix}: ${text}`, { cause: error });
}
