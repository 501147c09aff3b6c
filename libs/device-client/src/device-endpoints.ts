import { DEVICE_WS_PATH } from '@telehub/contracts';
import { DeviceClientError } from './device-client.error.js';

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
