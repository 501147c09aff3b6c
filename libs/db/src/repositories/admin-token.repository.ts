import { and, asc, eq, gt, inArray, isNull, ne, or, type SQL, sql } from 'drizzle-orm';
import type { DatabaseClient } from '../client.js';
import { type AdminTokenRole, type AdminTokenRow, type AdminTokenSource, adminTokens } from '../schema/index.js';

/** The channel an admin token's revocation is announced on (payload: the token id), by any process. */
export const ADMIN_TOKENS_CHANNEL = 'telehub_admin_tokens';

// Revocations that must leave an admin (and the environment token's replacement) take this lock, so two of
// them at once cannot both see the other's token as the admin that remains.
const ADMIN_TOKENS_LOCK_KEY = 7_246_811_301;

export interface NewAdminToken {
  name: string;
  role: AdminTokenRole;
  source: AdminTokenSource;
  tokenHash: Buffer;
  hint: string;
  expiresAt: Date | null;
}

export type RevokeAdminTokenResult =
  | { outcome: 'revoked'; row: AdminTokenRow }
  | { outcome: 'not_found' }
  | { outcome: 'already_revoked'; row: AdminTokenRow }
  /** `keepAnAdmin` was asked and this is the last admin token that works. */
  | { outcome: 'last_admin'; row: AdminTokenRow };

/** Neither revoked nor expired, on the database's clock. */
const isActive: SQL = and(
  isNull(adminTokens.revokedAt),
  or(isNull(adminTokens.expiresAt), gt(adminTokens.expiresAt, sql`now()`)),
) as SQL;

export class AdminTokenRepository {
  constructor(private readonly client: DatabaseClient) {}

  private get db() {
    return this.client.db;
  }

  async create(token: NewAdminToken): Promise<AdminTokenRow> {
    const [row] = await this.db.insert(adminTokens).values(token).returning();
    return row!;
  }

  /** Every token, revoked and expired ones too, oldest first. */
  list(): Promise<AdminTokenRow[]> {
    return this.db.select().from(adminTokens).orderBy(asc(adminTokens.createdAt), asc(adminTokens.id));
  }

  /** The token with this hash whatever its state, so a refusal can say whether it was revoked or expired. */
  async findByHash(tokenHash: Buffer): Promise<AdminTokenRow | undefined> {
    const [row] = await this.db.select().from(adminTokens).where(eq(adminTokens.tokenHash, tokenHash));
    return row;
  }

  async findById(id: string): Promise<AdminTokenRow | undefined> {
    const [row] = await this.db.select().from(adminTokens).where(eq(adminTokens.id, id));
    return row;
  }

  /** The tokens with this name that still work (names are unique among those, but older data may repeat one). */
  findActiveByName(name: string): Promise<AdminTokenRow[]> {
    return this.db
      .select()
      .from(adminTokens)
      .where(and(eq(adminTokens.name, name), isActive))
      .orderBy(asc(adminTokens.createdAt));
  }

  async countActiveAdmins(): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(adminTokens)
      .where(and(eq(adminTokens.role, 'admin'), isActive));
    return row?.count ?? 0;
  }

  /** Which of these token ids still work. */
  async activeIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .select({ id: adminTokens.id })
      .from(adminTokens)
      .where(and(inArray(adminTokens.id, ids), isActive));
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Revokes a token and announces it on ADMIN_TOKENS_CHANNEL in the same transaction. With `keepAnAdmin`, the
   * last admin token that works is refused instead, so nobody is locked out of managing tokens.
   */
  revoke(id: string, options: { keepAnAdmin: boolean }): Promise<RevokeAdminTokenResult> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMIN_TOKENS_LOCK_KEY})`);
      const [row] = await tx.select().from(adminTokens).where(eq(adminTokens.id, id)).for('update');
      if (!row) return { outcome: 'not_found' };
      if (row.revokedAt) return { outcome: 'already_revoked', row };
      if (options.keepAnAdmin && row.role === 'admin') {
        const [others] = await tx
          .select({ count: sql<number>`count(*)::int` })
          .from(adminTokens)
          .where(and(eq(adminTokens.role, 'admin'), ne(adminTokens.id, id), isActive));
        // Revoking an expired admin token leaves the others as they are: only a working one is protected.
        const [working] = await tx
          .select({ id: adminTokens.id })
          .from(adminTokens)
          .where(and(eq(adminTokens.id, id), isActive));
        if (working && (others?.count ?? 0) === 0) return { outcome: 'last_admin', row };
      }
      const [revoked] = await tx
        .update(adminTokens)
        .set({ revokedAt: sql`now()` })
        .where(eq(adminTokens.id, id))
        .returning();
      await tx.execute(sql`SELECT pg_notify(${ADMIN_TOKENS_CHANNEL}, ${id})`);
      return { outcome: 'revoked', row: revoked! };
    });
  }

  /**
   * Makes the token from TELEHUB_ADMIN_TOKEN (its hash; undefined when the variable is unset) the one
   * environment token: every other environment token is revoked (and announced), and this one is added, or
   * made to work again if it was revoked when the variable held something else. Returns the revoked ids.
   */
  syncEnvironmentToken(token: { tokenHash: Buffer; hint: string } | undefined): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${ADMIN_TOKENS_LOCK_KEY})`);
      const stale = await tx
        .update(adminTokens)
        .set({ revokedAt: sql`now()` })
        .where(
          and(
            eq(adminTokens.source, 'environment'),
            isNull(adminTokens.revokedAt),
            token ? ne(adminTokens.tokenHash, token.tokenHash) : undefined,
          ),
        )
        .returning({ id: adminTokens.id });
      for (const { id } of stale) await tx.execute(sql`SELECT pg_notify(${ADMIN_TOKENS_CHANNEL}, ${id})`);
      if (token) {
        const current = {
          name: 'environment',
          role: 'admin' as const,
          source: 'environment' as const,
          expiresAt: null,
          revokedAt: null,
        };
        await tx
          .insert(adminTokens)
          .values({ ...current, tokenHash: token.tokenHash, hint: token.hint })
          .onConflictDoUpdate({ target: adminTokens.tokenHash, set: current });
      }
      return stale.map(({ id }) => id);
    });
  }

  async touchLastUsed(id: string, at = new Date()): Promise<void> {
    await this.db.update(adminTokens).set({ lastUsedAt: at }).where(eq(adminTokens.id, id));
  }

  /**
   * Calls `onRevoked` with the id of every admin token revoked by any process on this database (the hub, the
   * CLI). `onListen` runs each time the listening connection is (re)established: announcements sent while it
   * was down are lost, so the caller checks its tokens with activeIds() then.
   */
  async listen(onRevoked: (id: string) => void, onListen: () => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.client.sql.listen(ADMIN_TOKENS_CHANNEL, onRevoked, onListen);
    return unlisten;
  }
}
