/**
 * Every WebSocket close status of the device channel (/v1/devices/ws) in one table, as `ws` keeps its errors:
 * a stable name, the status code, and the reason text the hub sends with it. RFC 6455 §7.4.1 defines 1000–1015;
 * 1013 "Try Again Later" is in the IANA registry; 4000–4999 are the application's own (§7.4.2).
 * docs/device-protocol.md, "Close codes", tells device authors what to do on each.
 *
 * The hub closes a session with the entry named like the reason the session ended (`taken_over` → 4000); a session
 * that ends for a reason without an entry (the peer is gone) is cut without a close frame.
 */
export const DEVICE_WS_CLOSE = {
  /** The device ends its session. */
  normal: { code: 1000, reason: '' },
  /** The hub is stopping; every frame it had read was answered first. Reconnect with backoff. */
  server_shutdown: { code: 1001, reason: 'server shutting down' },
  /** A WebSocket protocol error: `ws` closes with it by itself, without a reason. */
  protocol_error: { code: 1002, reason: '' },
  /** Never sent: what an endpoint reports when the connection dropped without a close frame (§7.1.5). */
  abnormal_closure: { code: 1006, reason: '' },
  /** A text frame that is not UTF-8: `ws` closes with it by itself. */
  invalid_utf8: { code: 1007, reason: '' },
  /** Held back by the rate limit for longer than TELEHUB_RATE_LIMIT_DISCONNECT_MS. */
  rate_limited: { code: 1008, reason: 'rate limit' },
  /** A frame over TELEHUB_MAX_MESSAGE_BYTES: `ws` closes with it by itself, before the hub reads the frame. */
  packet_too_large: { code: 1009, reason: '' },
  /** The hub is shedding load: reconnect later. */
  server_overloaded: { code: 1013, reason: 'server overloaded' },
  /** Another connection of this device took over: do not reconnect at once, or the two take turns forever. */
  taken_over: { code: 4000, reason: 'session taken over' },
  /** The token no longer works (revoked or expired, or the device disabled): stop, and get a new token. */
  token_revoked: { code: 4001, reason: 'token revoked' },
  token_expired: { code: 4001, reason: 'token expired' },
  not_authorized: { code: 4001, reason: 'not authorized' },
} as const satisfies Record<string, { code: number; reason: string }>;

export type DeviceWsCloseName = keyof typeof DEVICE_WS_CLOSE;
export type DeviceWsCloseStatus = (typeof DEVICE_WS_CLOSE)[DeviceWsCloseName];

/** The entry named `name` (the reason a session ended), when the channel has one. */
export function deviceWsCloseStatus(name: string): DeviceWsCloseStatus | undefined {
  return Object.hasOwn(DEVICE_WS_CLOSE, name) ? DEVICE_WS_CLOSE[name as DeviceWsCloseName] : undefined;
}
