/**
 * The MQTT topics of the device protocol (docs/device-protocol.md, "MQTT"): every topic is per device, and `me`
 * stands for the connected device's own id. The hub classifies what a device publishes and subscribes to with
 * classifyDeviceTopic; clients, benchmarks and the dashboard's snippets build topics with deviceTopics.
 */

/** Stands for the connected device's own id in any of its topics. */
export const OWN_DEVICE_ALIAS = 'me';

/** The topics of the device `deviceId` (its id, or OWN_DEVICE_ALIAS). */
export const deviceTopics = {
  telemetry: (deviceId: string) => `devices/${deviceId}/telemetry`,
  state: (deviceId: string) => `devices/${deviceId}/state`,
  commands: (deviceId: string) => `devices/${deviceId}/commands`,
  commandResult: (deviceId: string, commandId: string) => `devices/${deviceId}/commands/${commandId}/result`,
} as const;

/** What a device may do on a topic. */
export type DeviceTopic =
  | { kind: 'telemetry' }
  | { kind: 'state' }
  | { kind: 'commands' }
  | { kind: 'command_result'; commandId: string }
  | { kind: 'forbidden' };

/** Classifies a topic for the device `deviceId`; another device's topic is always forbidden. */
export function classifyDeviceTopic(topic: string, deviceId: string): DeviceTopic {
  const parts = topic.split('/');
  if (parts[0] !== 'devices' || (parts[1] !== deviceId && parts[1] !== OWN_DEVICE_ALIAS)) return { kind: 'forbidden' };
  if (parts.length === 3) {
    if (parts[2] === 'telemetry') return { kind: 'telemetry' };
    if (parts[2] === 'state') return { kind: 'state' };
    if (parts[2] === 'commands') return { kind: 'commands' };
  }
  if (parts.length === 5 && parts[2] === 'commands' && parts[4] === 'result' && parts[3]) {
    return { kind: 'command_result', commandId: parts[3] };
  }
  return { kind: 'forbidden' };
}
