import type { CommandMessage, SessionDetails } from '@telehub/contracts';

/** Why a device session ended; transports map these to MQTT reason codes and WebSocket close codes. */
export type CloseReason =
  | 'client_disconnect'
  | 'taken_over'
  | 'server_shutdown'
  | 'keepalive_timeout'
  | 'connect_timeout'
  | 'protocol_error'
  | 'packet_too_large'
  | 'rate_limited'
  | 'not_authorized'
  | 'token_revoked'
  | 'token_expired'
  | 'socket_error'
  | 'socket_closed'
  | 'server_overloaded';

export type DeviceTransport = 'mqtt' | 'mqtt-ws' | 'mqtt-tls' | 'ws';

/** A live device session as the hub's sessions and command delivery see it, whatever its transport. */
export interface DeviceConnection {
  readonly deviceId: string;
  readonly transport: DeviceTransport;
  readonly connectedAt: number;
  /** How the device connected (protocol level, client id, keep-alive, address), as its transport learnt it. */
  readonly details: SessionDetails;
  /** Stop reading from the device (back-pressure, rate limit); `resume` undoes it. */
  pause(): void;
  resume(): void;
  /** End the session; the transport tells the device why in its protocol's terms. */
  close(reason: CloseReason): void;
  /** Resolves when every message read so far has been handled and acknowledged. */
  drain(): Promise<void>;
  /** Settles once the connection has closed, both sides (or cut off after TELEHUB_CLOSE_GRACE_MS). */
  readonly ended: Promise<unknown>;
  /** The device listens for commands now (MQTT: once subscribed to its commands topic; WebSocket: always). */
  readonly acceptsCommands: boolean;
  /** How many more commands may be written before the device acknowledges some (MQTT Receive Maximum). */
  readonly commandCapacity: number;
  /**
   * Writes a command to the device; false when the connection cannot take it (closing, window full).
   * `previouslySent`: an earlier connection was sent it and did not acknowledge it (MQTT marks a re-delivery).
   */
  sendCommand(command: CommandMessage, previouslySent?: boolean): boolean;
}
