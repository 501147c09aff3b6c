import type { DatabaseClient } from '../client.js';

/** Column-wise batch: index i of each array is one row. Columnar so the insert binds 4 arrays, not 4×N values. */
export interface TelemetryBatch {
  /** Epoch milliseconds: numbers serialize faster than dates, and the statement converts them. */
  times: number[];
  deviceIds: string[];
  metrics: string[];
  values: number[];
}

export class TelemetryRepository {
  constructor(private readonly client: DatabaseClient) {}

  /**
   * Writes a whole batch as one statement with four typed array parameters: one parse, one round trip,
   * and a plan that does not depend on the batch size (unlike a VALUES list with 4×N parameters).
   */
  async insertBatch(batch: TelemetryBatch): Promise<number> {
    if (batch.times.length === 0) return 0;
    const result = await this.client.sql`
      INSERT INTO telemetry (time, device_id, metric, value)
      SELECT to_timestamp(t / 1000.0), d, m, v FROM unnest(
        ${batch.times}::float8[],
        ${batch.deviceIds}::uuid[],
        ${batch.metrics}::text[],
        ${batch.values}::float8[]) AS rows (t, d, m, v)`;
    return result.count;
  }

  async deleteForDevice(deviceId: string): Promise<number> {
    const result = await this.client.sql`DELETE FROM telemetry WHERE device_id = ${deviceId}`;
    return result.count;
  }

  async countForDevice(deviceId: string): Promise<number> {
    const [row] = await this.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${deviceId}`;
    return row?.count ?? 0;
  }
}
