import type { DatabaseClient } from '../client.js';

/** A shared bucket's answer: a token was taken, or not and how long until one will be there. */
export interface SharedRateDecision {
  admitted: boolean;
  /** 0 when admitted; else milliseconds until the bucket holds a token again. */
  waitMs: number;
}

/**
 * The per-device message budget that every hub process on the database shares (device_rate_buckets), for
 * transports whose requests a load balancer spreads over hubs (HTTP). One statement per message: the device's
 * row is refilled by the time since its last update (the database's clock, so hubs need not agree on theirs) and
 * a token taken when there is one. Concurrent requests of one device are serialized by the row's lock.
 *
 * Runs on a client of its own: a request must not wait behind telemetry batches holding the pool's connections.
 */
export class DeviceRateRepository {
  constructor(private readonly client: DatabaseClient) {}

  async take(deviceId: string, ratePerSec: number, burst: number): Promise<SharedRateDecision> {
    // The first request of a device finds no row: a full bucket, one token taken.
    const [row] = await this.client.sql<{ admitted: boolean; tokens: number }[]>`
      INSERT INTO device_rate_buckets AS b (device_id, tokens, updated_at, admitted)
      VALUES (${deviceId}, ${burst}::float8 - 1, clock_timestamp(), true)
      ON CONFLICT (device_id) DO UPDATE SET (tokens, updated_at, admitted) = (
        SELECT CASE WHEN available >= 1 THEN available - 1 ELSE available END, at, available >= 1
        FROM (
          SELECT least(
              ${burst}::float8,
              b.tokens + greatest(0, extract(epoch FROM t.at - b.updated_at)::float8) * ${ratePerSec}::float8
            ) AS available,
            greatest(t.at, b.updated_at) AS at
          FROM (SELECT clock_timestamp() AS at) AS t
        ) AS refilled
      )
      RETURNING admitted, tokens`;
    if (!row) throw new Error('device_rate_buckets: the upsert returned no row');
    return { admitted: row.admitted, waitMs: row.admitted ? 0 : ((1 - row.tokens) * 1000) / ratePerSec };
  }
}
