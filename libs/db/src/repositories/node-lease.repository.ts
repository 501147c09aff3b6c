import type { DatabaseClient } from '../client.js';

/** A hub process whose lease lapsed, with the devices that were online on it (now offline, `node_lost`). */
export interface LostNode {
  instanceId: string;
  name: string;
  /** When its lease ran out (epoch ms, database clock): it sent nothing after this. */
  expiredAt: number;
  devices: LostDevice[];
}

export interface LostDevice {
  deviceId: string;
  transport: string | null;
  sessionId: string | null;
}

/** A device marked offline because no live hub process holds its session. */
export interface OrphanedDevice extends LostDevice {
  instance: string | null;
  node: string | null;
}

export interface LiveNode {
  instanceId: string;
  name: string;
  startedAt: number;
  expiresAt: number;
}

/** The reason a device's presence gets when the hub process that held its session is gone. */
/** Telemetry committed per second (messages and rows) over the last minute. */
export interface CommitRates {
  messagesPerSecond: number;
  rowsPerSecond: number;
}

export const NODE_LOST_REASON = 'node_lost';

/**
 * The leases of the hub processes sharing this database (hub_nodes). Every time is the database's clock, so
 * processes on machines whose clocks disagree still agree on whose lease has lapsed.
 */
export class NodeLeaseRepository {
  constructor(private readonly client: DatabaseClient) {}

  /** This process starts: its lease runs for `ttlMs` from now. */
  async register(instanceId: string, name: string, ttlMs: number): Promise<void> {
    await this.client.sql`
      INSERT INTO hub_nodes (instance_id, name, expires_at)
      VALUES (${instanceId}, ${name}, now() + make_interval(secs => ${ttlMs / 1000}::float8))
      ON CONFLICT (instance_id) DO UPDATE SET
        renewed_at = now(), expires_at = now() + make_interval(secs => ${ttlMs / 1000}::float8)`;
  }

  /**
   * Records this process's telemetry rates and answers the sum of the other live processes' (one statement), so
   * every hub shows the fleet's rates, not only its own.
   */
  async shareRates(instanceId: string, rates: CommitRates): Promise<CommitRates> {
    const [row] = await this.client.sql<CommitRates[]>`
      WITH mine AS (
        UPDATE hub_nodes SET messages_per_second = ${rates.messagesPerSecond}, rows_per_second = ${rates.rowsPerSecond}
        WHERE instance_id = ${instanceId}
      )
      SELECT coalesce(sum(messages_per_second), 0)::float8 AS "messagesPerSecond",
        coalesce(sum(rows_per_second), 0)::float8 AS "rowsPerSecond"
      FROM hub_nodes WHERE instance_id <> ${instanceId} AND expires_at >= now()`;
    return row ?? { messagesPerSecond: 0, rowsPerSecond: 0 };
  }

  /**
   * Extends this process's lease to `ttlMs` from now. False when its row is gone: another process found the lease
   * lapsed (this one was stalled or cut off for longer than the lease) and declared it lost.
   */
  async renew(instanceId: string, ttlMs: number): Promise<boolean> {
    const result = await this.client.sql`
      UPDATE hub_nodes SET renewed_at = now(), expires_at = now() + make_interval(secs => ${ttlMs / 1000}::float8)
      WHERE instance_id = ${instanceId}`;
    return result.count > 0;
  }

  /**
   * This process stops: its lease ends, and any device still recorded online on it (a session whose offline
   * write did not make it) goes offline with `reason`, in the same statement. Returns how many devices did.
   */
  async release(instanceId: string, reason: string): Promise<number> {
    const result = await this.client.sql`
      WITH released AS (DELETE FROM hub_nodes WHERE instance_id = ${instanceId})
      UPDATE devices SET online = false, disconnected_at = now(), disconnect_reason = ${reason}
      WHERE online AND connected_instance = ${instanceId}`;
    return result.count;
  }

  /**
   * Removes the leases that lapsed and, in the same statement, marks the devices online on those processes
   * offline (`node_lost`). Several processes may reap at once: each lapsed lease is taken by one of them (SKIP
   * LOCKED), so each device's loss is reported once.
   */
  async reapExpired(): Promise<LostNode[]> {
    const rows = await this.client.sql<
      {
        instanceId: string;
        name: string;
        expiredAt: number;
        deviceId: string | null;
        transport: string | null;
        sessionId: string | null;
      }[]
    >`
      WITH lapsed AS (
        DELETE FROM hub_nodes WHERE instance_id IN (
          SELECT instance_id FROM hub_nodes WHERE expires_at < now() FOR UPDATE SKIP LOCKED)
        RETURNING instance_id, name, expires_at
      ), lost AS (
        UPDATE devices AS d SET online = false, disconnected_at = now(), disconnect_reason = ${NODE_LOST_REASON}
        FROM lapsed WHERE d.online AND d.connected_instance = lapsed.instance_id
        RETURNING d.id, d.transport, d.session_id, d.connected_instance
      )
      SELECT lapsed.instance_id AS "instanceId", lapsed.name,
        (extract(epoch FROM lapsed.expires_at) * 1000)::float8 AS "expiredAt",
        lost.id AS "deviceId", lost.transport, lost.session_id AS "sessionId"
      FROM lapsed LEFT JOIN lost ON lost.connected_instance = lapsed.instance_id
      ORDER BY lapsed.instance_id, lost.id`;
    const nodes = new Map<string, LostNode>();
    for (const row of rows) {
      let node = nodes.get(row.instanceId);
      if (!node) {
        node = { instanceId: row.instanceId, name: row.name, expiredAt: row.expiredAt, devices: [] };
        nodes.set(row.instanceId, node);
      }
      if (row.deviceId)
        node.devices.push({ deviceId: row.deviceId, transport: row.transport, sessionId: row.sessionId });
    }
    return [...nodes.values()];
  }

  /**
   * Devices recorded online on no live hub process (one whose lease row is gone, or written before processes had
   * instance ids) go offline (`node_lost`). A full scan of the devices: run once at start, not on every tick.
   */
  async reapOrphans(): Promise<OrphanedDevice[]> {
    return this.client.sql<OrphanedDevice[]>`
      WITH orphaned AS (
        SELECT id, connected_instance, connected_node FROM devices AS d
        WHERE online AND NOT EXISTS (SELECT 1 FROM hub_nodes AS n WHERE n.instance_id = d.connected_instance)
        FOR UPDATE SKIP LOCKED
      )
      UPDATE devices AS d SET online = false, disconnected_at = now(), disconnect_reason = ${NODE_LOST_REASON}
      FROM orphaned AS o WHERE d.id = o.id AND d.online
        AND NOT EXISTS (SELECT 1 FROM hub_nodes AS n WHERE n.instance_id = d.connected_instance)
      RETURNING d.id AS "deviceId", d.transport, d.session_id AS "sessionId", o.connected_instance AS instance,
        o.connected_node AS node`;
  }

  /** The hub processes whose lease has not lapsed, oldest first. */
  live(): Promise<LiveNode[]> {
    return this.client.sql<LiveNode[]>`
      SELECT instance_id AS "instanceId", name, (extract(epoch FROM started_at) * 1000)::float8 AS "startedAt",
        (extract(epoch FROM expires_at) * 1000)::float8 AS "expiresAt"
      FROM hub_nodes WHERE expires_at >= now() ORDER BY started_at, instance_id`;
  }
}
