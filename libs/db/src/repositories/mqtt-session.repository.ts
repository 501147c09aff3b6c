import type { Sql, TransactionSql } from 'postgres';
import type { DatabaseClient } from '../client.js';
import type { UnacknowledgedCommand } from '../schema/mqtt-sessions.table.js';

export interface MqttSessionOpening {
  deviceId: string;
  clientId: string;
  /** Discard whatever the device's session was (3.1.1 Clean Session, MQTT 5 Clean Start). */
  cleanStart: boolean;
  /** How long the session is kept after this connection ends; 0: it is not kept (any earlier one is deleted). */
  expirySeconds: number;
  /** Names the connection that holds the session from now on: only it may save or end it. */
  connectionId: string;
  /** The hub process holding the connection (its instance id). */
  instance: string;
}

/** The earlier session a connection took over. */
export interface ResumedMqttSession {
  subscriptions: Record<string, 0 | 1>;
  unacknowledged: UnacknowledgedCommand[];
}

interface EarlierSession extends ResumedMqttSession {
  clientId: string;
  alive: boolean;
}

/**
 * MQTT sessions kept beyond their connection (`mqtt_sessions`, one per device). Every change of a held session
 * names its connection, so a connection that was taken over (on this hub or another) changes nothing.
 */
export class MqttSessionRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * A connection of the device begins: the earlier session is taken over when it was made by the same client id,
   * has not expired and no clean start was asked for; otherwise it is discarded. When `expirySeconds` is not 0 the
   * connection holds the session from now on. Resolves with the earlier session if it was taken over.
   */
  async open(opening: MqttSessionOpening): Promise<ResumedMqttSession | undefined> {
    if (opening.cleanStart) {
      // Nothing to read: one statement, and a DELETE that finds no row commits without writing anything.
      if (opening.expirySeconds === 0)
        await this.client.sql`DELETE FROM mqtt_sessions WHERE device_id = ${opening.deviceId}`;
      else await this.hold(this.client.sql, opening, undefined);
      return undefined;
    }
    return this.client.sql.begin(async (tx) => {
      const [earlier] = await tx<EarlierSession[]>`
        SELECT client_id AS "clientId", subscriptions, unacknowledged,
          (expires_at IS NULL OR expires_at > now()) AS alive
        FROM mqtt_sessions WHERE device_id = ${opening.deviceId} FOR UPDATE`;
      const resumed = earlier?.alive && earlier.clientId === opening.clientId ? earlier : undefined;
      if (opening.expirySeconds === 0) {
        if (earlier) await tx`DELETE FROM mqtt_sessions WHERE device_id = ${opening.deviceId}`;
      } else {
        await this.hold(tx, opening, resumed);
      }
      return resumed && { subscriptions: resumed.subscriptions, unacknowledged: resumed.unacknowledged };
    });
  }

  /**
   * Clean connections that keep no session, many devices in one statement: whatever session each had is gone. A
   * burst of connects costs a few statements; a DELETE that finds no row commits without writing anything.
   */
  async discard(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.client.sql`DELETE FROM mqtt_sessions WHERE device_id = ANY(${deviceIds as string[]}::uuid[])`;
  }

  /** Replaces the subscriptions of the session `connectionId` holds; false when it holds none (taken over). */
  async saveSubscriptions(
    deviceId: string,
    connectionId: string,
    subscriptions: Record<string, 0 | 1>,
  ): Promise<boolean> {
    const result = await this.client.sql`
      UPDATE mqtt_sessions SET subscriptions = ${JSON.stringify(subscriptions)}::jsonb
      WHERE device_id = ${deviceId} AND connection_id = ${connectionId}`;
    return result.count > 0;
  }

  /**
   * The connection holding the session ended: it is kept for `expirySeconds` from now, with the commands the
   * connection left unacknowledged, or deleted when `expirySeconds` is 0. A connection no longer holding it
   * changes nothing.
   */
  async close(
    deviceId: string,
    connectionId: string,
    expirySeconds: number,
    unacknowledged: UnacknowledgedCommand[],
  ): Promise<void> {
    if (expirySeconds === 0) {
      await this.client
        .sql`DELETE FROM mqtt_sessions WHERE device_id = ${deviceId} AND connection_id = ${connectionId}`;
      return;
    }
    await this.client.sql`
      UPDATE mqtt_sessions SET connection_id = NULL, connected_instance = NULL, disconnected_at = now(),
        expiry_interval_s = ${expirySeconds}, expires_at = now() + make_interval(secs => ${expirySeconds}::int),
        unacknowledged = ${JSON.stringify(unacknowledged)}::jsonb
      WHERE device_id = ${deviceId} AND connection_id = ${connectionId}`;
  }

  /**
   * Sessions held by connections of hub processes that are gone (no lease row in hub_nodes: a process that was
   * killed or crashed, whose lease lapsed and was reaped, so the sessions' ends were never written) start their
   * expiry now. Returns how many. Safe to run from several hubs at once: a session is released once.
   */
  async releaseOrphans(): Promise<number> {
    const result = await this.client.sql`
      UPDATE mqtt_sessions AS s SET connection_id = NULL, connected_instance = NULL, disconnected_at = now(),
        expires_at = now() + make_interval(secs => expiry_interval_s)
      WHERE connection_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM hub_nodes AS n WHERE n.instance_id = s.connected_instance)`;
    return result.count;
  }

  /**
   * Deletes sessions whose expiry has passed, at most `limit`. Several hubs may run this at once: each skips the
   * rows another has locked, and a device resuming its session meanwhile waits for the delete (or wins, and the
   * session it holds has no expiry any more).
   */
  async deleteExpired(limit: number): Promise<Array<{ deviceId: string; clientId: string }>> {
    return this.client.sql<Array<{ deviceId: string; clientId: string }>>`
      DELETE FROM mqtt_sessions WHERE device_id IN (
        SELECT device_id FROM mqtt_sessions WHERE expires_at <= now()
        ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ) AND expires_at <= now()
      RETURNING device_id AS "deviceId", client_id AS "clientId"`;
  }

  /** Makes `opening`'s connection hold the device's session: the earlier one's state if resumed, else empty. */
  private async hold(
    sql: Sql | TransactionSql,
    opening: MqttSessionOpening,
    resumed: ResumedMqttSession | undefined,
  ): Promise<void> {
    const { deviceId, clientId, expirySeconds, connectionId, instance } = opening;
    await sql`
      INSERT INTO mqtt_sessions (device_id, client_id, expiry_interval_s, connection_id, connected_instance,
        subscriptions, unacknowledged)
      VALUES (${deviceId}, ${clientId}, ${expirySeconds}, ${connectionId}, ${instance},
        ${JSON.stringify(resumed?.subscriptions ?? {})}::jsonb, ${JSON.stringify(resumed?.unacknowledged ?? [])}::jsonb)
      ON CONFLICT (device_id) DO UPDATE SET client_id = excluded.client_id,
        expiry_interval_s = excluded.expiry_interval_s, connection_id = excluded.connection_id,
        connected_instance = excluded.connected_instance, disconnected_at = NULL, expires_at = NULL,
        subscriptions = excluded.subscriptions, unacknowledged = excluded.unacknowledged,
        created_at = CASE WHEN ${resumed !== undefined} THEN mqtt_sessions.created_at ELSE now() END`;
  }
}
