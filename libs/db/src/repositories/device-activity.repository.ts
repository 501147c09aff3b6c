import type { DatabaseClient } from '../client.js';

/** A device became active or inactive; recorded as a device event (`active`/`inactive`) in the same statement. */
export interface ActivityTransition {
  eventId: number;
  deviceId: string;
  active: boolean;
  /** Epoch ms of the event. */
  time: number;
  detail: Record<string, unknown>;
}

/**
 * Active/inactive transitions. A device is active while it was heard from (a message over any transport, a
 * connect or a disconnect: `last_seen_at`) within its inactivity timeout, or holds a live session (whose
 * keep-alive the transport enforces). The `active` column remembers what was last decided; each method flips
 * it for the devices whose state changed and records one event per flip, in one statement: rows another hub is
 * flipping are skipped (SKIP LOCKED), and a row already flipped no longer matches, so several hubs sweeping
 * one database never record a transition twice, and a crash cannot flip a device without its event.
 */
export class DeviceActivityRepository {
  constructor(private readonly client: DatabaseClient) {}

  /** Devices heard from (or connected) within their timeout but not marked active: at most `limit` of them. */
  async markActive(defaultTimeoutSeconds: number, limit: number): Promise<ActivityTransition[]> {
    const sql = this.client.sql;
    const rows = await sql<TransitionRow[]>`
      WITH due AS (
        SELECT id FROM devices
        WHERE NOT active AND (online OR last_seen_at > now() - ${timeout(sql, defaultTimeoutSeconds)})
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), changed AS (
        UPDATE devices AS d SET active = true FROM due WHERE d.id = due.id AND NOT d.active
        RETURNING d.id, d.online, d.transport, d.last_seen_at
      )
      INSERT INTO device_events (device_id, time, type, detail)
      SELECT id, least(now(), coalesce(last_seen_at, now())), 'active', jsonb_strip_nulls(jsonb_build_object(
        'reason', CASE WHEN online THEN 'connected' ELSE 'seen' END,
        'transport', CASE WHEN online THEN transport END,
        'lastSeenAt', ${iso(sql, 'last_seen_at')}))
      FROM changed ORDER BY id
      RETURNING id, device_id, (extract(epoch FROM time) * 1000)::float8 AS time, detail`;
    return rows.map((row) => transition(row, true));
  }

  /**
   * Active devices without a live session that have not been heard from within their timeout: at most `limit`.
   * The event is dated when the timeout ran out (last seen + timeout), which is earlier than the sweep.
   */
  async markInactive(defaultTimeoutSeconds: number, limit: number): Promise<ActivityTransition[]> {
    const sql = this.client.sql;
    const rows = await sql<TransitionRow[]>`
      WITH due AS (
        SELECT id FROM devices
        WHERE active AND NOT online
          AND (last_seen_at IS NULL OR last_seen_at <= now() - ${timeout(sql, defaultTimeoutSeconds)})
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), changed AS (
        UPDATE devices AS d SET active = false FROM due WHERE d.id = due.id AND d.active AND NOT d.online
        RETURNING d.id, d.last_seen_at, coalesce(d.inactivity_timeout_seconds, ${defaultTimeoutSeconds}::int) AS timeout_s
      )
      INSERT INTO device_events (device_id, time, type, detail)
      SELECT id, least(now(), coalesce(last_seen_at + make_interval(secs => timeout_s), now())), 'inactive',
        jsonb_strip_nulls(jsonb_build_object(
          'reason', 'inactivity_timeout', 'timeoutSeconds', timeout_s, 'lastSeenAt', ${iso(sql, 'last_seen_at')}))
      FROM changed ORDER BY id
      RETURNING id, device_id, (extract(epoch FROM time) * 1000)::float8 AS time, detail`;
    return rows.map((row) => transition(row, false));
  }
}

interface TransitionRow {
  id: number;
  device_id: string;
  time: number;
  detail: Record<string, unknown>;
}

function transition(row: TransitionRow, active: boolean): ActivityTransition {
  return { eventId: Number(row.id), deviceId: row.device_id, active, time: row.time, detail: row.detail };
}

/** The device's own timeout, or the hub's. */
function timeout(sql: DatabaseClient['sql'], defaultSeconds: number) {
  return sql`make_interval(secs => coalesce(inactivity_timeout_seconds, ${defaultSeconds}::int))`;
}

/** A timestamptz column as RFC 3339 UTC with milliseconds, as the API writes times. */
function iso(sql: DatabaseClient['sql'], column: string) {
  return sql`to_char(${sql(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
