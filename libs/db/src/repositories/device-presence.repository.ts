import type { DatabaseClient } from '../client.js';
import type { SessionRecord } from '../schema/devices.table.js';

/** A device session began (online) or ended (offline, with its reason); times are epoch ms. */
export interface PresenceChange {
  deviceId: string;
  online: boolean;
  /** The hub process's name (TELEHUB_NODE_ID), for people. */
  node: string;
  /** The hub process's instance id (hub_nodes), which holds the session. */
  instance: string;
  /** The session that began or ended. */
  sessionId: string;
  transport: string;
  /** When the session (that began or ended) was opened. */
  connectedAt: number;
  /** Online: how it connected (stored with it, and kept when it ends); not read when offline. */
  session?: SessionRecord;
  reason?: string;
  at: number;
}

/** A live session that a newer one replaced on record: the hub process `instance` must close it. */
export interface DisplacedSession {
  deviceId: string;
  sessionId: string;
  instance: string;
}

/** A device's live session on record. */
export interface SessionOwner {
  deviceId: string;
  online: boolean;
  sessionId: string | null;
}

/** Online/offline, last-seen (device_last_seen) and reported state: what devices change about themselves. */
export class DevicePresenceRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * Sessions that began or ended, many devices in one statement (one commit for a burst of connects). Each
   * device at most once, its latest change. Sessions' details travel as JSON text (drizzle, sharing this
   * postgres.js client, turns off its jsonb serializer). A session that begins becomes the device's session on record, and
   * the live one it replaces (on this hub process or another) is returned: it was taken over and must close.
   * Going offline applies only while the session that ended is still the one on record (its session id): a newer
   * session (a takeover, possibly on another hub) is left alone. The rows are locked before they are read, so of
   * two sessions written at once, the second sees the first and displaces it: the database decides the owner.
   */
  async applyPresence(changes: PresenceChange[]): Promise<DisplacedSession[]> {
    if (changes.length === 0) return [];
    // Sorted so concurrent batches (several hubs) lock device rows in the same order.
    const sorted = [...changes].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    // Booleans travel as 0/1: postgres.js does not serialize boolean arrays.
    return this.client.sql<DisplacedSession[]>`
      WITH c AS (
        SELECT * FROM unnest(
          ${sorted.map((change) => change.deviceId)}::uuid[],
          ${sorted.map((change) => (change.online ? 1 : 0))}::int[],
          ${sorted.map((change) => change.node)}::text[],
          ${sorted.map((change) => change.instance)}::uuid[],
          ${sorted.map((change) => change.sessionId)}::uuid[],
          ${sorted.map((change) => change.transport)}::text[],
          ${sorted.map((change) => change.connectedAt)}::float8[],
          ${sorted.map((change) => (change.session ? JSON.stringify(change.session) : null))}::text[],
          ${sorted.map((change) => change.reason ?? null)}::text[],
          ${sorted.map((change) => change.at)}::float8[]
        ) AS c (device_id, online_flag, node, instance, session_id, transport, connected_at, session, reason, at)
      ), previous AS (
        SELECT d.id, d.online, d.session_id, d.connected_instance FROM devices AS d JOIN c ON c.device_id = d.id
        ORDER BY d.id FOR UPDATE OF d
      ), updated AS (
        UPDATE devices AS d SET
          online = c.online_flag = 1,
          connected_node = CASE WHEN c.online_flag = 1 THEN c.node ELSE d.connected_node END,
          connected_instance = CASE WHEN c.online_flag = 1 THEN c.instance ELSE d.connected_instance END,
          session_id = CASE WHEN c.online_flag = 1 THEN c.session_id ELSE d.session_id END,
          transport = CASE WHEN c.online_flag = 1 THEN c.transport ELSE d.transport END,
          session = CASE WHEN c.online_flag = 1 THEN c.session::jsonb ELSE d.session END,
          connected_at = CASE WHEN c.online_flag = 1 THEN to_timestamp(c.connected_at / 1000.0) ELSE d.connected_at END,
          disconnected_at = CASE WHEN c.online_flag = 1 THEN d.disconnected_at ELSE to_timestamp(c.at / 1000.0) END,
          disconnect_reason = CASE WHEN c.online_flag = 1 THEN d.disconnect_reason ELSE c.reason END
        FROM c JOIN previous AS p ON p.id = c.device_id
        WHERE d.id = c.device_id AND (c.online_flag = 1 OR p.session_id = c.session_id)
        RETURNING d.id, c.online_flag
      ), seen AS (
        -- A connect or a disconnect is hearing from the device (greatest: a later message may have been recorded).
        UPDATE device_last_seen AS s SET last_seen_at = greatest(s.last_seen_at, to_timestamp(c.at / 1000.0))
        FROM updated AS u JOIN c ON c.device_id = u.id
        WHERE s.device_id = u.id
      )
      SELECT p.id AS "deviceId", p.session_id AS "sessionId", p.connected_instance AS instance
      FROM updated AS u JOIN previous AS p ON p.id = u.id JOIN c ON c.device_id = u.id
      WHERE u.online_flag = 1 AND p.online AND p.session_id IS NOT NULL AND p.session_id <> c.session_id
        AND p.connected_instance IS NOT NULL`;
  }

  /** The live session on record of each of these devices (a device that no longer exists is left out). */
  async sessionOwners(deviceIds: readonly string[]): Promise<SessionOwner[]> {
    if (deviceIds.length === 0) return [];
    return this.client.sql<SessionOwner[]>`
      SELECT id AS "deviceId", online, session_id AS "sessionId" FROM devices
      WHERE id = ANY(${deviceIds as string[]}::uuid[])`;
  }

  /**
   * Coalesced last-seen: one statement for every device heard from since the previous call. It writes the narrow
   * device_last_seen rows only (the device rows and their indexes are left alone).
   */
  async touchLastSeen(deviceIds: string[], at: number): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.client.sql`
      UPDATE device_last_seen SET last_seen_at = to_timestamp(${at} / 1000.0)
      WHERE device_id = ANY(${deviceIds}::uuid[])
        AND (last_seen_at IS NULL OR last_seen_at < to_timestamp(${at} / 1000.0))`;
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
        UPDATE devices AS d SET reported_state = m.state, state_updated_at = now()
        FROM merged AS m WHERE d.id = m.id AND octet_length(m.state::text) <= ${maxBytes}
        RETURNING d.id, d.reported_state, d.state_updated_at
      ), seen AS (
        UPDATE device_last_seen AS s SET last_seen_at = greatest(s.last_seen_at, now())
        FROM updated WHERE s.device_id = updated.id
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
