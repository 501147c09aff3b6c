import type {
  Device,
  DeviceDetail,
  DeviceEvent,
  DeviceSession,
  DeviceStatus,
  DeviceTokenInfo,
} from '@telehub/contracts';
import type { DeviceEvent as DeviceEventRecord, DeviceRow, DeviceTokenRow, LatestValue } from '@telehub/db';

export function presentDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    name: row.name,
    labels: row.labels,
    metadata: row.metadata,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    online: row.online,
    active: row.active,
    status: statusOf(row),
    inactivityTimeoutSeconds: row.inactivityTimeoutSeconds,
    transport: row.transport,
    connectedAt: row.connectedAt?.toISOString() ?? null,
    disconnectedAt: row.disconnectedAt?.toISOString() ?? null,
    disconnectReason: row.disconnectReason,
  };
}

/** A live session first (connected), else heard from within the inactivity timeout (active). */
export function statusOf(row: Pick<DeviceRow, 'online' | 'active'>): DeviceStatus {
  return row.online ? 'connected' : row.active ? 'active' : 'offline';
}

export function presentLatest(latest: Pick<LatestValue, 'metric' | 'value' | 'time'>[]): DeviceDetail['latest'] {
  return Object.fromEntries(latest.map((v) => [v.metric, { value: v.value, time: new Date(v.time).toISOString() }]));
}

export function presentDeviceDetail(row: DeviceRow, latest: LatestValue[]): DeviceDetail {
  return {
    ...presentDevice(row),
    session: presentSession(row),
    latest: presentLatest(latest),
    state: row.reportedState,
    stateUpdatedAt: row.stateUpdatedAt?.toISOString() ?? null,
  };
}

/**
 * The live session, else the last one: a device row keeps the details of its last session when it ends
 * (transport, node, since when; the session column). Null when the device never held one.
 */
export function presentSession(row: DeviceRow): DeviceSession | null {
  if (!row.connectedAt || !row.transport) return null;
  const details = row.session;
  return {
    live: row.online,
    transport: row.transport,
    mqttProtocolLevel: details?.mqttProtocolLevel ?? null,
    clientId: details?.clientId ?? null,
    keepAliveSeconds: details?.keepAliveSeconds ?? null,
    remoteAddress: details?.remoteAddress ?? null,
    node: row.connectedNode,
    connectedAt: row.connectedAt.toISOString(),
    endedAt: row.online ? null : (row.disconnectedAt?.toISOString() ?? null),
  };
}

export function presentEvent(event: DeviceEventRecord): DeviceEvent {
  return { id: event.id, time: new Date(event.time).toISOString(), type: event.type, detail: event.detail };
}

export function presentToken(row: DeviceTokenRow, now = Date.now()): DeviceTokenInfo {
  return {
    id: row.id,
    hint: row.hint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    active: !row.revokedAt && (!row.expiresAt || row.expiresAt.getTime() > now),
  };
}
