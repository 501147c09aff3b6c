import type { AdminPresenceMessage, Device } from '@telehub/contracts';
import type { AdminSocket } from '../api/admin-socket.js';
import { Store } from './store.js';

/**
 * The newest presence change seen per device since sign-in. The hub writes presence to the database a moment
 * after it announces it, so a device page opened right after a connect can read "offline" from the REST API
 * while the announcement has already gone by: views merge their REST data with this.
 */
export class PresenceCache {
  readonly latest = new Store<ReadonlyMap<string, AdminPresenceMessage>>(new Map());
  private readonly stop: () => void;

  constructor(socket: AdminSocket) {
    this.stop = socket.on('presence', (message) => {
      const current = this.latest.get().get(message.deviceId);
      if (current && current.at > message.at) return;
      this.latest.set(new Map(this.latest.get()).set(message.deviceId, message));
    });
  }

  dispose(): void {
    this.stop();
  }
}

/** The device as REST gave it, moved on by a presence change that is newer than what REST knew. */
export function withPresence<T extends Device>(device: T, presence: AdminPresenceMessage | undefined): T {
  if (!presence) return device;
  const known = Math.max(
    device.connectedAt ? Date.parse(device.connectedAt) : 0,
    device.disconnectedAt ? Date.parse(device.disconnectedAt) : 0,
  );
  if (presence.at < known) return device;
  const at = new Date(presence.at).toISOString();
  return {
    ...device,
    online: presence.online,
    transport: presence.transport,
    lastSeenAt: device.lastSeenAt && device.lastSeenAt > at ? device.lastSeenAt : at,
    ...(presence.online
      ? { connectedAt: at }
      : { disconnectedAt: at, disconnectReason: presence.reason ?? device.disconnectReason }),
  };
}
