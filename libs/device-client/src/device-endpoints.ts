import { DeviceClientError } from './device-client.error.js';

/**
 * Where a device talks to the hub (docs/device-protocol.md). The hub spells the same topics in
 * apps/hub/src/transports/mqtt/device-topics.ts; the topics use the device's own id, never the `me` alias,
 * so that what the device sees on the wire names it.
 */
export const DEVICE_WS_PATH = '/v1/devices/ws';

export const deviceTopics = {
  telemetry: (deviceId: string) => `devices/${deviceId}/telemetry`,
  state: (deviceId: string) => `devices/${deviceId}/state`,
  commands: (deviceId: string) => `devices/${deviceId}/commands`,
  commandResult: (deviceId: string, commandId: string) => `devices/${deviceId}/commands/${commandId}/result`,
} as const;

/**
 * The device WebSocket endpoint from the hub's address: `http://host:8080` → `ws://host:8080/v1/devices/ws`
 * (https → wss). A ws:// or wss:// URL with a path is taken as the endpoint itself.
 */
export function deviceWebSocketUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new DeviceClientError(
      'ERR_INVALID_OPTIONS',
      `a device WebSocket URL is http(s):// or ws(s)://, got ${parsed.protocol}//`,
    );
  }
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = DEVICE_WS_PATH;
  return parsed.toString();
}
