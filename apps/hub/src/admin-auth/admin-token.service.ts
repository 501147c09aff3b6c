import { Injectable } from '@nestjs/common';
import { AdminTokenRepository, type AdminTokenRow } from '@telehub/db';
import { hashToken } from '../auth/token-codec.js';
import type { AdminIdentity, AdminTokenCheck } from './admin-identity.js';

// lastUsedAt is informational; writing it at most once a minute per token keeps admin requests read-only.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Checks admin tokens. There is no cache: every request and every channel sign-in reads the token's row
 * (one indexed lookup), so a revocation or expiry holds at once, in every hub process.
 */
@Injectable()
export class AdminTokenService {
  private readonly lastTouched = new Map<string, number>();

  constructor(private readonly adminTokens: AdminTokenRepository) {}

  async verify(token: string): Promise<AdminTokenCheck> {
    const row = await this.adminTokens.findByHash(hashToken(token));
    if (!row) return { ok: false, refusal: 'unknown' };
    if (row.revokedAt) return { ok: false, refusal: 'revoked' };
    const now = Date.now();
    if (row.expiresAt && row.expiresAt.getTime() <= now) return { ok: false, refusal: 'expired' };
    if (now - (this.lastTouched.get(row.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.lastTouched.set(row.id, now);
      await this.adminTokens.touchLastUsed(row.id);
    }
    return { ok: true, identity: identityOf(row) };
  }
}

export function identityOf(row: AdminTokenRow): AdminIdentity {
  return { tokenId: row.id, name: row.name, role: row.role, source: row.source, expiresAt: row.expiresAt };
}
