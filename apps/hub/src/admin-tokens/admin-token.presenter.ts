import type { AdminIdentity as AdminIdentityBody, AdminTokenInfo } from '@telehub/contracts';
import type { AdminTokenRow } from '@telehub/db';
import type { AdminIdentity } from '../admin-auth/admin-identity.js';

export function presentAdminToken(row: AdminTokenRow, now = Date.now()): AdminTokenInfo {
  return {
    id: row.id,
    name: row.name,
    hint: row.hint,
    role: row.role,
    source: row.source,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    active: !row.revokedAt && (!row.expiresAt || row.expiresAt.getTime() > now),
  };
}

export function presentIdentity(identity: AdminIdentity): AdminIdentityBody {
  return {
    id: identity.tokenId,
    name: identity.name,
    role: identity.role,
    source: identity.source,
    expiresAt: identity.expiresAt?.toISOString() ?? null,
  };
}
