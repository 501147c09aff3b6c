import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type AdminTokenRow, adminTokens } from '../schema/index.js';

export class AdminTokenRepository {
  constructor(private readonly db: Database) {}

  async countActive(): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(adminTokens)
      .where(isNull(adminTokens.revokedAt));
    return row?.count ?? 0;
  }

  async create(name: string, tokenHash: Buffer, hint: string): Promise<AdminTokenRow> {
    const [row] = await this.db.insert(adminTokens).values({ name, tokenHash, hint }).returning();
    return row!;
  }

  /** Inserts the token unless one with the same hash exists (a token supplied through the environment). */
  async ensure(name: string, tokenHash: Buffer, hint: string): Promise<void> {
    await this.db.insert(adminTokens).values({ name, tokenHash, hint }).onConflictDoNothing();
  }

  async findActiveByHash(tokenHash: Buffer): Promise<AdminTokenRow | undefined> {
    const [row] = await this.db
      .select()
      .from(adminTokens)
      .where(and(eq(adminTokens.tokenHash, tokenHash), isNull(adminTokens.revokedAt)));
    return row;
  }

  async touchLastUsed(id: string, at = new Date()): Promise<void> {
    await this.db.update(adminTokens).set({ lastUsedAt: at }).where(eq(adminTokens.id, id));
  }
}
