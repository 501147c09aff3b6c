import type { AdminPresenceMessage, Device, DeviceSession, DeviceStatus } from '@telehub/contracts';
import type { AdminSocket } from '../api/admin-socket.js';
import { Store } from './store.js';

/** What the admin channel said last about a device: its session (connected), its activity (active). */
export interface LivePresence {
  session?: AdminPresenceMessage;
  /** From the hub's `active`/`inactive` device events; `at` is the event's time. */
  activity?: { active: boolean; at: number };
}

/**
 * The newest presence and activity change seen per device since the channel last connected. The hub writes
 * presence to the database a moment after it announces it, so a device page opened right after a connect can
 * read "offline" from the REST API while the announcement has already gone by: views merge their REST data
 * with this. Cleared at every (re)connect: views load REST again then, and what happened meanwhile was not sent.
 */
export class PresenceCache {
  readonly latest = new Store<ReadonlyMap<string, LivePresence>>(new Map());
  private readonly stops: (() => void)[];

  constructor(socket: AdminSocket) {
    this.stops = [
      socket.connections.subscribe(() => this.latest.set(new Map())),
      socket.on('presence', (message) => {
        const current = this.latest.get().get(message.deviceId);
        if (current?.session && current.session.at > message.at) return;
        this.put(message.deviceId, { ...current, session: message });
      }),
      socket.on('device_event', (message) => {
        if (!message.deviceId || (message.eventType !== 'active' && message.eventType !== 'inactive')) return;
        const current = this.latest.get().get(message.deviceId);
        if (current?.activity && current.activity.at > message.at) return;
        this.put(message.deviceId, {
          ...current,
          activity: { active: message.eventType === 'active', at: message.at },
        });
      }),
    ];
  }

  dispose(): void {
    for (const stop of this.stops) stop();
  }

  private put(deviceId: string, change: LivePresence): void {
    this.latest.set(new Map(this.latest.get()).set(deviceId, change));
  }
}

/** A live session first (connected), else heard from within its inactivity timeout (active): both show online. */
export function statusOf(device: Pick<Device, 'online' | 'active'>): DeviceStatus {
  return device.online ? 'connected' : device.active ? 'active' : 'offline';
}

/** The device as REST gave it, moved on by presence and activity changes newer than what REST knew. */
export function withPresence<T extends Device>(device: T, change: LivePresence | undefined): T {
  if (!change) return device;
  let next = device;
  const session = change.session;
  const known = Math.max(
    device.connectedAt ? Date.parse(device.connectedAt) : 0,
    device.disconnectedAt ? Date.parse(device.disconnectedAt) : 0,
  );
  if (session && session.at >= known) {
    const at = new Date(session.at).toISOString();
    next = {
      ...next,
      online: session.online,
      transport: session.transport,
      lastSeenAt: device.lastSeenAt && device.lastSeenAt > at ? device.lastSeenAt : at,
      ...(session.online
        ? { connectedAt: at }
        : { disconnectedAt: at, disconnectReason: session.reason ?? device.disconnectReason }),
      // The device page's detail (a list item has no session details).
      ...('session' in device
        ? { session: movedSession((device as { session: DeviceSession | null }).session, session) }
        : {}),
    };
  }
  if (change.activity) next = { ...next, active: change.activity.active };
  if (next === device) return device;
  return { ...next, status: statusOf(next) };
}

/** A device detail's session after a presence change: the new session's details, or the last one ended. */
function movedSession(current: DeviceSession | null, change: AdminPresenceMessage): DeviceSession | null {
  const at = new Date(change.at).toISOString();
  if (!change.online) return current ? { ...current, live: false, endedAt: at } : null;
  const details = change.session;
  return {
    live: true,
    transport: change.transport,
    mqttProtocolLevel: details?.mqttProtocolLevel ?? null,
    clientId: details?.clientId ?? null,
    keepAliveSeconds: details?.keepAliveSeconds ?? null,
    remoteAddress: details?.remoteAddress ?? null,
    node: details?.node ?? null,
    connectedAt: at,
    endedAt: null,
  };
}
