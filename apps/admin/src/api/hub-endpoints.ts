/**
 * Where devices reach the hub, for the snippets shown with a new token. The hub does not tell the dashboard
 * its MQTT port yet: this is TELEHUB_MQTT_PORT's default.
 */
export const DEVICE_MQTT_PORT = 1883;

/** The host devices use: the one this page was loaded from. */
export function deviceHost(): string {
  return location.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
}
