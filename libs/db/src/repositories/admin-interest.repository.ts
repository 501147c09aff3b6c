import type { DatabaseClient } from '../client.js';

/** One device (or, with `deviceId` null, every device) a hub process's admin connections watch. */
export interface WatchedDevice {
  deviceId: string | null;
  /** Its live points. */
  points: boolean;
  /** Its presence, state and device events. */
  events: boolean;
}

/** What one live hub process watches. */
export interface ProcessInterest {
  instanceId: string;
  watched: WatchedDevice[];
}

/**
 * admin_interest: what each hub process's admin connections watch, so the others send it only those devices'
 * live points and events. A process's rows go with its hub_nodes row (foreign key, on delete cascade).
 */
export class AdminInterestRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * Replaces everything `instanceId` watches with `watched`, in one statement (one commit: the others never read
   * half of it). Fails (foreign key) when the process has no lease row.
   */
  async replace(instanceId: string, watched: readonly WatchedDevice[]): Promise<void> {
    await this.client.sql`
      WITH gone AS (DELETE FROM admin_interest WHERE instance_id = ${instanceId})
      INSERT INTO admin_interest (instance_id, device_id, points, events)
      SELECT ${instanceId}, d, p::boolean, e::boolean FROM unnest(
        ${watched.map((row) => row.deviceId)}::uuid[],
        ${watched.map((row) => String(row.points))}::text[],
        ${watched.map((row) => String(row.events))}::text[]
      ) AS watched (d, p, e)`;
  }

  /** What `instanceId` watches now (nothing once its lease is gone). */
  async of(instanceId: string): Promise<WatchedDevice[]> {
    return this.client.sql<WatchedDevice[]>`
      SELECT device_id AS "deviceId", points, events FROM admin_interest WHERE instance_id = ${instanceId}`;
  }

  /** What every process with a lease watches, except `exceptInstanceId`. */
  async others(exceptInstanceId: string): Promise<ProcessInterest[]> {
    const rows = await this.client.sql<(WatchedDevice & { instanceId: string })[]>`
      SELECT instance_id AS "instanceId", device_id AS "deviceId", points, events FROM admin_interest
      WHERE instance_id <> ${exceptInstanceId}`;
    const byInstance = new Map<string, WatchedDevice[]>();
    for (const { instanceId, ...watched } of rows) {
      const list = byInstance.get(instanceId) ?? [];
      list.push(watched);
      byInstance.set(instanceId, list);
    }
    return [...byInstance].map(([instanceId, watched]) => ({ instanceId, watched }));
  }
}
