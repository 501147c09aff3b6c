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
 * connect or a disconnect: device_last_seen) within its inactivity timeout, or holds a live session (whose
 * keep-alive the transport enforces). The `active` column remembers what was last decided; `sweep` flips it for
 * the devices whose state changed and records one event per flip, in one statement: rows another hub is
 * flipping are skipped (SKIP LOCKED), and a row already flipped no longer matches, so several hubs sweeping
 * one database never record a transition twice, and a crash cannot flip a device without its event.
 */
export class DeviceActivityRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * Flips, and records, at most `limit` devices whose `active` is not what it should be: active when connected
   * or heard from within the timeout (their own, else `defaultTimeoutSeconds`), inactive otherwise. One scan of
   * devices finds both kinds. An `active` event is dated when the device was last heard from, an `inactive` one
   * when its timeout ran out (last seen + timeout): both are earlier than the sweep that notices them.
   */
  async sweep(defaultTimeoutSeconds: number, limit: number): Promise<ActivityTransition[]> {
    const sql = this.client.sql;
    const timeout = sql`coalesce(inactivity_timeout_seconds, ${defaultTimeoutSeconds}::int)`;
    const shouldBeActive = sql`(online OR coalesce(last_seen_at > now() - make_interval(secs => ${timeout}), false))`;
    const rows = await sql<TransitionRow[]>`
      WITH due AS (
        SELECT d.id FROM devices AS d JOIN device_last_seen AS s ON s.device_id = d.id
        WHERE d.active <> ${shouldBeActive}
        ORDER BY d.id LIMIT ${limit} FOR UPDATE OF d SKIP LOCKED
      ), changed AS (
        UPDATE devices SET active = NOT active FROM due, device_last_seen AS s
        WHERE devices.id = due.id AND s.device_id = devices.id AND devices.active <> ${shouldBeActive}
        RETURNING devices.id, devices.active, devices.online, devices.transport, s.last_seen_at,
          ${timeout} AS timeout_s
      )
      INSERT INTO device_events (device_id, time, type, detail)
      SELECT id,
        least(now(), coalesce(CASE WHEN active THEN last_seen_at ELSE last_seen_at + make_interval(secs => timeout_s) END, now())),
        CASE WHEN active THEN 'active' ELSE 'inactive' END,
        jsonb_strip_nulls(CASE
          WHEN active THEN jsonb_build_object(
            'reason', CASE WHEN online THEN 'connected' ELSE 'seen' END,
            'transport', CASE WHEN online THEN transport END,
            'lastSeenAt', ${iso(sql, 'last_seen_at')})
          ELSE jsonb_build_object(
            'reason', 'inactivity_timeout', 'timeoutSeconds', timeout_s, 'lastSeenAt', ${iso(sql, 'last_seen_at')})
        END)
      FROM changed ORDER BY id
      RETURNING id, device_id, type, (extract(epoch FROM time) * 1000)::float8 AS time, detail`;
    return rows.map((row) => ({
      eventId: Number(row.id),
      deviceId: row.device_id,
      active: row.type === 'active',
      time: row.time,
      detail: row.detail,
    }));
  }
}

interface TransitionRow {
  id: number;
  device_id: string;
  type: 'active' | 'inactive';
  time: number;
  detail: Record<string, unknown>;
}

/** A timestamptz column as RFC 3339 UTC with milliseconds, as the API writes times. */
function iso(sql: DatabaseClient['sql'], column: string) {
  return sql`to_char(${sql(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
