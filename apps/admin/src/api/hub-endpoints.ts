/** TELEHUB_MQTT_PORT's default: what the snippets show until the hub tells its real port (at auth). */
export const DEFAULT_MQTT_PORT = 1883;

/** The host devices use: the one this page was loaded from. */
export function deviceHost(): string {
  return location.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
}
