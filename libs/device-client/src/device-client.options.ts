import type { BackoffOptions } from '@telehub/contracts';
import { DeviceClientError } from './device-client.error.js';

export interface DeviceClientOptions {
  deviceId: string;
  /** The device token (`thd_…`). */
  token: string;
  /**
   * MQTT: `mqtt://host:1883`, `mqtts://host:8883` or `ws://host:8080/mqtt`.
   * WebSocket: the hub's address (`http://host:8080`) or the endpoint itself (`ws://host:8080/v1/devices/ws`).
   */
  url: string;
  /** Time allowed for one connection attempt (TCP, TLS, CONNACK or WebSocket handshake). */
  connectTimeoutMs?: number;
  /** How long close() waits for unacknowledged sends and the closing handshake before cutting the connection. */
  closeTimeoutMs?: number;
  /**
   * Reconnect after a lost connection, with the shared jittered exponential backoff (`backoffDelay` of
   * @telehub/contracts), so a fleet that lost the hub at once comes back spread out; off unless given.
   */
  reconnect?: BackoffOptions;
  /** Command ids remembered to drop duplicates (delivery is at-least-once); the oldest are forgotten first. */
  rememberedCommands?: number;
  /** MQTT keep alive in seconds [MQTT-3.1.2-10]; the hub enforces 1.5× this. */
  keepaliveSeconds?: number;
}

export const DEVICE_CLIENT_DEFAULTS = {
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  rememberedCommands: 1_000,
  keepaliveSeconds: 60,
} as const;

/** A sensible reconnect policy for a real device: the first retry within a second, then backing off to half a minute. */
export const DEFAULT_RECONNECT_POLICY: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };

/** MQTT.js schemes (TCP, TLS, WebSocket) and the hub's HTTP address for the JSON WebSocket. */
const URL_SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:', 'http:', 'https:']);

export type ResolvedDeviceClientOptions = Required<Omit<DeviceClientOptions, 'reconnect'>> & {
  reconnect: BackoffOptions | undefined;
};

/** Fills in defaults and refuses options that would fail later in a less obvious way. */
export function resolveOptions(options: DeviceClientOptions): ResolvedDeviceClientOptions {
  const resolved: ResolvedDeviceClientOptions = {
    deviceId: options.deviceId,
    token: options.token,
    url: options.url,
    connectTimeoutMs: options.connectTimeoutMs ?? DEVICE_CLIENT_DEFAULTS.connectTimeoutMs,
    closeTimeoutMs: options.closeTimeoutMs ?? DEVICE_CLIENT_DEFAULTS.closeTimeoutMs,
    rememberedCommands: options.rememberedCommands ?? DEVICE_CLIENT_DEFAULTS.rememberedCommands,
    keepaliveSeconds: options.keepaliveSeconds ?? DEVICE_CLIENT_DEFAULTS.keepaliveSeconds,
    reconnect: options.reconnect,
  };
  const problems: string[] = [];
  if (!resolved.deviceId) problems.push('deviceId is required');
  if (!resolved.token) problems.push('token is required');
  if (!URL_SCHEMES.has(URL.parse(resolved.url)?.protocol ?? '')) {
    problems.push(`url must look like mqtt://host:1883 or http://host:8080, got ${JSON.stringify(resolved.url)}`);
  }
  for (const key of ['connectTimeoutMs', 'closeTimeoutMs', 'rememberedCommands'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] <= 0) problems.push(`${key} must be a positive integer`);
  }
  // 0 turns MQTT keep alive off [MQTT-3.1.2-10]; 65535 is the largest the two-byte field holds.
  if (
    !Number.isInteger(resolved.keepaliveSeconds) ||
    resolved.keepaliveSeconds < 0 ||
    resolved.keepaliveSeconds > 65_535
  ) {
    problems.push('keepaliveSeconds must be an integer from 0 to 65535');
  }
  const { reconnect } = resolved;
  if (reconnect && !(reconnect.initialMs > 0 && reconnect.maxMs >= reconnect.initialMs)) {
    problems.push('reconnect needs 0 < initialMs <= maxMs');
  }
  if (problems.length > 0) throw new DeviceClientError('ERR_INVALID_OPTIONS', `device client: ${problems.join('; ')}`);
  return resolved;
}
