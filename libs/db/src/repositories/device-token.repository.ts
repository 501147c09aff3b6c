import { and, desc, eq, gt, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type DeviceTokenRow, devices, deviceTokens } from '../schema/index.js';

/** What authenticating a device token needs, in one row. */
export interface DeviceCredential {
  tokenId: string;
  tokenHash: Buffer;
  deviceId: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  deviceDisabled: boolean;
}

export class DeviceTokenRepository {
  constructor(private readonly db: Database) {}

  async create(deviceId: string, tokenHash: Buffer, hint: string, expiresAt: Date | null): Promise<DeviceTokenRow> {
    const [row] = await this.db.insert(deviceTokens).values({ deviceId, tokenHash, hint, expiresAt }).returning();
    return row!;
  }

  async listForDevice(deviceId: string): Promise<DeviceTokenRow[]> {
    return this.db
      .select()
      .from(deviceTokens)
      .where(eq(deviceTokens.deviceId, deviceId))
      .orderBy(desc(deviceTokens.createdAt));
  }

  /** Revokes one live token of a device: 'revoked', or why not. */
  async revoke(
    deviceId: string,
    tokenId: string,
  ): Promise<{ outcome: 'revoked' | 'already_revoked' | 'not_found'; row?: DeviceTokenRow }> {
    const [row] = await this.db
      .update(deviceTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(deviceTokens.deviceId, deviceId), eq(deviceTokens.id, tokenId), isNull(deviceTokens.revokedAt)))
      .returning();
    if (row) return { outcome: 'revoked', row };
    const [existing] = await this.db
      .select()
      .from(deviceTokens)
      .where(and(eq(deviceTokens.deviceId, deviceId), eq(deviceTokens.id, tokenId)));
    return existing ? { outcome: 'already_revoked', row: existing } : { outcome: 'not_found' };
  }

  /** Rotation: the device's other live tokens expire at `at` (or keep an earlier expiry they already have). */
  async expireOthers(deviceId: string, keepTokenId: string, at: Date): Promise<DeviceTokenRow[]> {
    // Tokens that already expire before `at` are left out by the condition, so the rest simply get `at`.
    return this.db
      .update(deviceTokens)
      .set({ expiresAt: at })
      .where(
        and(
          eq(deviceTokens.deviceId, deviceId),
          ne(deviceTokens.id, keepTokenId),
          isNull(deviceTokens.revokedAt),
          or(isNull(deviceTokens.expiresAt), gt(deviceTokens.expiresAt, at)),
        ),
      )
      .returning();
  }

  /** One round trip for many hashes: a connection storm is answered in a few queries, not one per device. */
  async findCredentialsByHashes(hashes: Buffer[]): Promise<DeviceCredential[]> {
    if (hashes.length === 0) return [];
    const rows = await this.db
      .select({
        tokenId: deviceTokens.id,
        tokenHash: deviceTokens.tokenHash,
        deviceId: deviceTokens.deviceId,
        expiresAt: deviceTokens.expiresAt,
        revokedAt: deviceTokens.revokedAt,
        deviceDisabled: devices.disabled,
      })
      .from(deviceTokens)
      .innerJoin(devices, eq(devices.id, deviceTokens.deviceId))
      .where(inArray(deviceTokens.tokenHash, hashes));
    // The driver's bytea values are views into its 8 KiB read buffer; the auth cache keeps these for every
    // connected device, so each gets a 32-byte copy of its own instead of pinning a whole buffer. Not
    // Buffer.from: small copies come from Node's 8 KiB pool, and one cached slice keeps its whole slab (measured:
    // 3.9 KiB per idle connection, see bench/README.md "Issue 16 item 6").
    return rows.map((row) => ({ ...row, tokenHash: unpooledCopy(row.tokenHash) }));
  }

  /** When each of these tokens stops working: what live sessions authenticated with them need after a change. */
  async findValidity(
    tokenIds: string[],
  ): Promise<{ tokenId: string; expiresAt: Date | null; revokedAt: Date | null }[]> {
    if (tokenIds.length === 0) return [];
    return this.db
      .select({ tokenId: deviceTokens.id, expiresAt: deviceTokens.expiresAt, revokedAt: deviceTokens.revokedAt })
      .from(deviceTokens)
      .where(inArray(deviceTokens.id, tokenIds));
  }

  /** Coalesced last-used updates: called with every token used since the previous call. */
  async touchLastUsed(tokenIds: string[], at = new Date()): Promise<void> {
    if (tokenIds.length === 0) return;
    await this.db.update(deviceTokens).set({ lastUsedAt: at }).where(inArray(deviceTokens.id, tokenIds));
  }
}

function unpooledCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
