import type { DatabaseClient } from '../client.js';

/** Online/offline, last-seen and reported state: the parts of a device row that devices change. */
export class DevicePresenceRepository {
  constructor(private readonly client: DatabaseClient) {}

  async markOnline(deviceId: string, node: string, transport: string, at: number): Promise<void> {
    await this.client.sql`
      UPDATE devices SET online = true, connected_node = ${node}, transport = ${transport},
        connected_at = to_timestamp(${at} / 1000.0), last_seen_at = to_timestamp(${at} / 1000.0)
      WHERE id = ${deviceId}`;
  }

  /**
   * Marks the device offline unless a newer session (a takeover, possibly on another hub) has since
   * marked it online: the connected_at of the session that ended must still be the one on record.
   */
  async markOffline(deviceId: string, connectedAt: number, reason: string, at: number): Promise<boolean> {
    const result = await this.client.sql`
      UPDATE devices SET online = false, disconnected_at = to_timestamp(${at} / 1000.0),
        disconnect_reason = ${reason}, last_seen_at = greatest(last_seen_at, to_timestamp(${at} / 1000.0))
      WHERE id = ${deviceId} AND connected_at = to_timestamp(${connectedAt} / 1000.0)`;
    return result.count > 0;
  }

  /** After a crash, sessions this node held are gone: mark those devices offline. */
  async markNodeOffline(node: string, reason: string): Promise<number> {
    const result = await this.client.sql`
      UPDATE devices SET online = false, disconnected_at = now(), disconnect_reason = ${reason}
      WHERE online AND connected_node = ${node}`;
    return result.count;
  }

  /** Coalesced last-seen: one statement for every device heard from since the previous call. */
  async touchLastSeen(deviceIds: string[], at: number): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.client.sql`
      UPDATE devices SET last_seen_at = to_timestamp(${at} / 1000.0)
      WHERE id = ANY(${deviceIds}::uuid[]) AND (last_seen_at IS NULL OR last_seen_at < to_timestamp(${at} / 1000.0))`;
  }

  /** Shallow-merges `patch` into the reported state (JSON null deletes a key) and returns the result. */
  async mergeReportedState(
    deviceId: string,
    patch: Record<string, unknown>,
  ): Promise<{ state: Record<string, unknown>; updatedAt: number } | undefined> {
    // The patch goes as JSON text and the time as epoch ms: drizzle, sharing this postgres.js client, turns
    // off its jsonb serializer and its timestamp parser (timestamps come back as strings).
    const [row] = await this.client.sql<{ state: Record<string, unknown>; updated_at_ms: number }[]>`
      UPDATE devices SET reported_state = jsonb_strip_nulls(reported_state || ${JSON.stringify(patch)}::jsonb),
        state_updated_at = now(), last_seen_at = now()
      WHERE id = ${deviceId}
      RETURNING reported_state AS state, (extract(epoch FROM state_updated_at) * 1000)::float8 AS updated_at_ms`;
    return row ? { state: row.state, updatedAt: row.updated_at_ms } : undefined;
  }
}
