/** What a device may do on a topic. Topics are per device; `me` stands for the device's own id. */
export type DeviceTopic =
  | { kind: 'telemetry' }
  | { kind: 'state' }
  | { kind: 'commands' }
  | { kind: 'command_result'; commandId: string }
  | { kind: 'forbidden' };

/** Classifies a topic for the device `deviceId`; another device's topic is always forbidden. */
export function classifyDeviceTopic(topic: string, deviceId: string): DeviceTopic {
  const parts = topic.split('/');
  if (parts[0] !== 'devices' || (parts[1] !== deviceId && parts[1] !== 'me')) return { kind: 'forbidden' };
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
