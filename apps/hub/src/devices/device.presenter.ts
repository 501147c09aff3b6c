import type { Device, DeviceTokenInfo } from '@telehub/contracts';
import type { DeviceRow, DeviceTokenRow } from '@telehub/db';

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
  };
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
