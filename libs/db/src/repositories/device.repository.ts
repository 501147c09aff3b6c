import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import { type DeviceRow, deviceLastSeen, devices, deviceTokens } from '../schema/index.js';
import { uuidV7 } from '../uuid-v7.js';

export interface NewDevice {
  name: string;
  labels: string[];
  metadata: Record<string, unknown>;
}

export interface NewToken {
  tokenHash: Buffer;
  hint: string;
}

export interface DevicePatch {
  name?: string;
  labels?: string[];
  metadata?: Record<string, unknown>;
  disabled?: boolean;
  /** null: the hub's default. */
  inactivityTimeoutSeconds?: number | null;
}

/** A device's last-seen time beside its row (every device has one: migration 0012's trigger makes it). */
const lastSeenOfDevice = sql<Date | null>`(
  SELECT ${deviceLastSeen.lastSeenAt} FROM ${deviceLastSeen} WHERE ${deviceLastSeen.deviceId} = ${devices.id})`.mapWith(
  deviceLastSeen.lastSeenAt,
);

// Postgres allows 65,535 bind parameters per statement; 4 columns × 5,000 rows stays well below.
const INSERT_CHUNK_ROWS = 5_000;

export class DeviceRepository {
  constructor(private readonly db: Database) {}

  /** Creates devices and one token each in one transaction: all of them or none. */
  async createWithTokens(entries: { device: NewDevice; token: NewToken }[]): Promise<DeviceRow[]> {
    return this.db.transaction(async (tx) => {
      const created: DeviceRow[] = [];
      for (let start = 0; start < entries.length; start += INSERT_CHUNK_ROWS) {
        const chunk = entries.slice(start, start + INSERT_CHUNK_ROWS);
        const ids = chunk.map(() => uuidV7());
        const rows = await tx
          .insert(devices)
          .values(chunk.map(({ device }, index) => ({ id: ids[index]!, ...device })))
          .returning();
        await tx.insert(deviceTokens).values(chunk.map(({ token }, index) => ({ deviceId: ids[index]!, ...token })));
        // New devices were never heard from.
        created.push(...rows.map((row) => ({ ...row, lastSeenAt: null })));
      }
      return created;
    });
  }

  async findById(id: string): Promise<DeviceRow | undefined> {
    const [row] = await this.db
      .select({ ...getTableColumns(devices), lastSeenAt: deviceLastSeen.lastSeenAt })
      .from(devices)
      .leftJoin(deviceLastSeen, eq(deviceLastSeen.deviceId, devices.id))
      .where(eq(devices.id, id));
    return row;
  }

  async update(id: string, patch: DevicePatch): Promise<DeviceRow | undefined> {
    const [row] = await this.db
      .update(devices)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(eq(devices.id, id))
      .returning({ ...getTableColumns(devices), lastSeenAt: lastSeenOfDevice });
    return row;
  }

  /** Deletes the device; its tokens go with it (ON DELETE CASCADE), so they can never authenticate again. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(devices).where(eq(devices.id, id)).returning({ id: devices.id });
    return rows.length > 0;
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(devices);
    return row?.count ?? 0;
  }
}
