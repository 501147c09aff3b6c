import type { DatabaseClient } from '../client.js';
import type { SessionRecord } from '../schema/devices.table.js';

/** A device session began (online) or ended (offline, with its reason); times are epoch ms. */
export interface PresenceChange {
  deviceId: string;
  online: boolean;
  node: string;
  transport: string;
  /** When the session (that began or ended) was opened. */
  connectedAt: number;
  /** Online: how it connected (stored with it, and kept when it ends); not read when offline. */
  session?: SessionRecord;
  reason?: string;
  at: number;
}

/** Online/offline, last-seen and reported state: the parts of a device row that devices change. */
export class DevicePresenceRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * Sessions that began or ended, many devices in one statement (one commit for a burst of connects). Each
   * device at most once, its latest change. Sessions' details travel as JSON text (drizzle, sharing this
   * postgres.js client, turns off its jsonb serializer). Going offline applies only while the session that ended is still
   * the one on record (its connected_at): a newer session (a takeover, possibly on another hub) is left alone.
   */
  async applyPresence(changes: PresenceChange[]): Promise<void> {
    if (changes.length === 0) return;
    // Sorted so concurrent batches (several hubs) lock device rows in the same order.
    const sorted = [...changes].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    // Booleans travel as 0/1: postgres.js does not serialize boolean arrays.
    await this.client.sql`
      UPDATE devices AS d SET
        online = c.online_flag = 1,
        connected_node = CASE WHEN c.online_flag = 1 THEN c.node ELSE d.connected_node END,
        transport = CASE WHEN c.online_flag = 1 THEN c.transport ELSE d.transport END,
        session = CASE WHEN c.online_flag = 1 THEN c.session::jsonb ELSE d.session END,
        connected_at = CASE WHEN c.online_flag = 1 THEN to_timestamp(c.connected_at / 1000.0) ELSE d.connected_at END,
        disconnected_at = CASE WHEN c.online_flag = 1 THEN d.disconnected_at ELSE to_timestamp(c.at / 1000.0) END,
        disconnect_reason = CASE WHEN c.online_flag = 1 THEN d.disconnect_reason ELSE c.reason END,
        last_seen_at = greatest(d.last_seen_at, to_timestamp(c.at / 1000.0))
      FROM unnest(
        ${sorted.map((change) => change.deviceId)}::uuid[],
        ${sorted.map((change) => (change.online ? 1 : 0))}::int[],
        ${sorted.map((change) => change.node)}::text[],
        ${sorted.map((change) => change.transport)}::text[],
        ${sorted.map((change) => change.connectedAt)}::float8[],
        ${sorted.map((change) => (change.session ? JSON.stringify(change.session) : null))}::text[],
        ${sorted.map((change) => change.reason ?? null)}::text[],
        ${sorted.map((change) => change.at)}::float8[]
      ) AS c (device_id, online_flag, node, transport, connected_at, session, reason, at)
      WHERE d.id = c.device_id AND (c.online_flag = 1 OR d.connected_at = to_timestamp(c.connected_at / 1000.0))`;
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

  /**
   * Shallow-merges `patch` into the reported state (JSON null deletes a key) unless the merged document would
   * serialize to more than `maxBytes`; returns the result, or `too_large` with its size (nothing changed).
   */
  async mergeReportedState(deviceId: string, patch: Record<string, unknown>, maxBytes: number): Promise<StateMerge> {
    // The patch goes as JSON text and the time as epoch ms: drizzle, sharing this postgres.js client, turns
    // off its jsonb serializer and its timestamp parser (timestamps come back as strings). The row is locked
    // while merging, so the size checked is the size stored.
    const [row] = await this.client.sql<
      { bytes: number | null; state: Record<string, unknown> | null; updated_at_ms: number | null }[]
    >`
      WITH merged AS (
        SELECT id, jsonb_strip_nulls(reported_state || ${JSON.stringify(patch)}::jsonb) AS state
        FROM devices WHERE id = ${deviceId} FOR UPDATE
      ), updated AS (
        UPDATE devices AS d SET reported_state = m.state, state_updated_at = now(), last_seen_at = now()
        FROM merged AS m WHERE d.id = m.id AND octet_length(m.state::text) <= ${maxBytes}
        RETURNING d.reported_state, d.state_updated_at
      )
      SELECT (SELECT octet_length(state::text) FROM merged) AS bytes, updated.reported_state AS state,
        (extract(epoch FROM updated.state_updated_at) * 1000)::float8 AS updated_at_ms
      FROM (SELECT 1) AS one LEFT JOIN updated ON true`;
    if (!row || row.bytes === null) return { kind: 'not_found' };
    if (row.state === null || row.updated_at_ms === null) return { kind: 'too_large', bytes: row.bytes };
    return { kind: 'merged', state: row.state, updatedAt: row.updated_at_ms };
  }
}

export type StateMerge =
  | { kind: 'merged'; state: Record<string, unknown>; updatedAt: number }
  | { kind: 'too_large'; bytes: number }
  | { kind: 'not_found' };
