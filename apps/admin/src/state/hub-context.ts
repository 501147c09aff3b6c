import type { AdminIdentity } from '@telehub/contracts';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { AdminSocket } from '../api/admin-socket.js';
import { ApiClient } from '../api/api-client.js';
import { ActivityFeed } from './activity-feed.js';
import { DeviceDirectory } from './device-directory.js';
import { FleetState } from './fleet-state.js';
import { PresenceCache } from './presence-cache.js';

/** Everything a signed-in dashboard talks to; made at sign-in, disposed at sign-out. */
export interface HubSession {
  /** Who is signed in, with which role: what the dashboard shows and offers. */
  identity: AdminIdentity;
  api: ApiClient;
  socket: AdminSocket;
  fleet: FleetState;
  activity: ActivityFeed;
  directory: DeviceDirectory;
  presence: PresenceCache;
  dispose(): void;
}

/**
 * What the sign-in page says after the hub stopped accepting the token: from the channel's close reason
 * ("admin token revoked") or the API's 401 detail ("the admin token was revoked"), whichever came first.
 */
function signedOutBecause(reason: string, fallback: string): string {
  if (reason.includes('revoked')) return 'Your admin token was revoked. Sign in with another one.';
  if (reason.includes('expired')) return 'Your admin token has expired. Sign in with another one.';
  return fallback;
}

export function openHubSession(
  token: string,
  identity: AdminIdentity,
  onUnauthorized: (reason: string) => void,
): HubSession {
  const api = new ApiClient(token, (detail) =>
    onUnauthorized(signedOutBecause(detail, 'The hub no longer accepts this admin token.')),
  );
  const socket = new AdminSocket({
    token,
    onUnauthorized: (reason) => onUnauthorized(signedOutBecause(reason, 'The hub refused this admin token.')),
  });
  const fleet = new FleetState(socket);
  const activity = new ActivityFeed(socket);
  const directory = new DeviceDirectory(api);
  const presence = new PresenceCache(socket);
  // The feed starts from the devices' event logs, and catches up the same way after every reconnect
  // (events that happened while the channel was down were not sent).
  const stopSeeding = socket.connections.subscribe(
    () => void activity.seed(api, (devices) => directory.remember(devices)).catch(() => undefined),
  );
  socket.start();
  return {
    identity,
    api,
    socket,
    fleet,
    activity,
    directory,
    presence,
    dispose: () => {
      stopSeeding();
      presence.dispose();
      activity.dispose();
      fleet.dispose();
      socket.stop();
    },
  };
}

export const HubContext = createContext<HubSession | null>(null);

export function useHub(): HubSession {
  const hub = useContext(HubContext);
  if (!hub) throw new Error('useHub outside a signed-in dashboard');
  return hub;
}
