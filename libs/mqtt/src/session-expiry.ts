import type { MqttSessionOptions, ProtocolVersion } from './mqtt-session.types.js';

export interface NegotiatedExpiry {
  /** How long the session outlives the connection, in seconds; 0: it ends with the connection. */
  seconds: number;
  /** MQTT 5: the value to return in the CONNACK's Session Expiry Interval, when it differs from the request. */
  announce?: number;
}

/** The longest a session may outlive its connection: 0 without a store to keep it in. */
export function sessionExpiryMax(options: MqttSessionOptions): number {
  return options.sessionStore ? (options.sessionExpiryMaxSeconds ?? 0) : 0;
}

/**
 * MQTT 3.1.1 has no session expiry: a session without Clean Session is kept for the server's maximum. MQTT 5 asks
 * for one (absent means 0, the session ends with the connection [MQTT-3.1.2-23]); the server may use less and then
 * says so in the CONNACK (MQTT 5 section 3.2.2.3.2).
 */
export function negotiateSessionExpiry(
  options: MqttSessionOptions,
  version: ProtocolVersion,
  cleanStart: boolean,
  requested: number | undefined,
): NegotiatedExpiry {
  const max = sessionExpiryMax(options);
  if (version !== 5) return { seconds: cleanStart ? 0 : max };
  const asked = requested ?? 0;
  const seconds = Math.min(asked, max);
  return seconds === asked ? { seconds } : { seconds, announce: seconds };
}
