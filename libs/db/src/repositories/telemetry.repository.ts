import type { Sql, TransactionSql } from 'postgres';
import type { DatabaseClient } from '../client.js';
import { copyIn } from '../copy-in.js';
import {
  encodeTelemetryBinary,
  encodeTelemetryText,
  TELEMETRY_COPY_COLUMNS,
  type TelemetryCopyFormat,
} from './telemetry-copy.js';

/** Column-wise batch: index i of each array is one row. Columnar so the insert binds 4 arrays, not 4×N values. */
export interface TelemetryBatch {
  /** Epoch milliseconds: numbers serialize faster than dates, and the statement converts them. */
  times: number[];
  deviceIds: string[];
  metrics: string[];
  values: number[];
}

export interface LatestValue {
  deviceId: string;
  metric: string;
  time: number;
  value: number;
}

/**
 * The newest value per (device, metric) of a batch into `device_latest`, never replacing a newer one: the one
 * upsert both write methods share (a fragment of the statement or transaction `sql` belongs to).
 */
function upsertLatest(sql: Sql | TransactionSql, latest: TelemetryBatch) {
  return sql`
    INSERT INTO device_latest (device_id, metric, time, value)
    SELECT d, m, to_timestamp(t / 1000.0), v FROM unnest(
      ${latest.times}::float8[], ${latest.deviceIds}::uuid[], ${latest.metrics}::text[], ${latest.values}::float8[]
    ) AS latest (t, d, m, v)
    ON CONFLICT (device_id, metric) DO UPDATE SET time = excluded.time, value = excluded.value
    WHERE device_latest.time <= excluded.time`;
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

  /**
   * The ingest statement: the batch's rows and the newest value per (device, metric), in one statement, so
   * one round trip commits both atomically. `latest` must hold each (device, metric) once (an upsert cannot
   * touch a row twice) and be sorted, so concurrent batches lock device_latest rows in the same order.
   */
  async insertBatchWithLatest(batch: TelemetryBatch, latest: TelemetryBatch): Promise<string | undefined> {
    if (batch.times.length === 0) return undefined;
    // The statement answers with its transaction id, so whoever reads a snapshot can tell whether it includes
    // this batch (pg_visible_in_snapshot): that is how the admin channel joins history to live points.
    const [row] = await this.client.sql<{ xid: string }[]>`
      WITH inserted AS (
        INSERT INTO telemetry (time, device_id, metric, value)
        SELECT to_timestamp(t / 1000.0), d, m, v FROM unnest(
          ${batch.times}::float8[], ${batch.deviceIds}::uuid[], ${batch.metrics}::text[], ${batch.values}::float8[]
        ) AS rows (t, d, m, v)
      ), upserted AS (${upsertLatest(this.client.sql, latest)})
      SELECT pg_current_xact_id()::text AS xid`;
    return row?.xid;
  }

  /**
   * The ingest write for rows that may have to wait (late rows, for a chunk being compressed): the rows first, then
   * the latest values, as two statements of one transaction. In insertBatchWithLatest's single statement PostgreSQL
   * runs the upsert before the insert (it finishes data-modifying CTEs in reverse order), so a statement waiting
   * on its rows would hold its devices' `device_latest` rows meanwhile (ON CONFLICT locks a row even when its
   * WHERE keeps it as it is), and a fleet batch with a current point of one of those devices would wait behind
   * it. Here nothing is locked until the rows are in. Resolves to the transaction's id, as insertBatchWithLatest.
   */
  async insertRowsThenLatest(batch: TelemetryBatch, latest: TelemetryBatch): Promise<string | undefined> {
    if (batch.times.length === 0) return undefined;
    return this.client.sql.begin(async (sql) => {
      await sql`
        INSERT INTO telemetry (time, device_id, metric, value)
        SELECT to_timestamp(t / 1000.0), d, m, v FROM unnest(
          ${batch.times}::float8[], ${batch.deviceIds}::uuid[], ${batch.metrics}::text[], ${batch.values}::float8[]
        ) AS rows (t, d, m, v)`;
      const [row] = await sql<{ xid: string }[]>`
        WITH upserted AS (${upsertLatest(sql, latest)})
        SELECT pg_current_xact_id()::text AS xid`;
      return row?.xid;
    });
  }

  /**
   * The ingest write with COPY: the batch's rows go in with `COPY telemetry … FROM STDIN` and the newest value per
   * (device, metric) with one small upsert, in one transaction, so a resolved call means both are committed.
   * Resolves to the transaction's id, as insertBatchWithLatest does. COPY spares the server the unnest and
   * PostgreSQL's per-element array parsing, and the hub postgres.js's per-element array escaping.
   *
   * The upsert comes last: `device_latest` rows stay locked from the upsert to the commit, so another batch in
   * flight that touches the same rows waits only for this commit, never for this batch's COPY. `latest` must hold
   * each (device, metric) once and be sorted (newestPerMetric), so concurrent batches lock rows in the same order.
   * A data error anywhere (SQLSTATE 22/23) rolls back the whole batch, as with the single statement.
   */
  async copyBatchWithLatest(
    batch: TelemetryBatch,
    latest: TelemetryBatch,
    format: TelemetryCopyFormat = 'binary',
  ): Promise<string | undefined> {
    if (batch.times.length === 0) return undefined;
    const data = format === 'binary' ? encodeTelemetryBinary(batch) : encodeTelemetryText(batch);
    const statement = `COPY telemetry ${TELEMETRY_COPY_COLUMNS} FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`;
    return this.client.sql.begin(async (sql) => {
      await copyIn(sql, statement, data);
      const [row] = await sql<{ xid: string }[]>`
        WITH upserted AS (${upsertLatest(sql, latest)})
        SELECT pg_current_xact_id()::text AS xid`;
      return row?.xid;
    });
  }

  async latestForDevice(deviceId: string): Promise<LatestValue[]> {
    // Times as epoch ms from SQL: drizzle sets the shared client to return timestamps as strings.
    const rows = await this.client.sql<{ metric: string; time: number; value: number }[]>`
      SELECT metric, (extract(epoch FROM time) * 1000)::float8 AS time, value
      FROM device_latest WHERE device_id = ${deviceId} ORDER BY metric`;
    return rows.map((row) => ({ deviceId, metric: row.metric, time: row.time, value: row.value }));
  }

  async deleteForDevice(deviceId: string): Promise<number> {
    await this.client.sql`DELETE FROM device_latest WHERE device_id = ${deviceId}`;
    const result = await this.client.sql`DELETE FROM telemetry WHERE device_id = ${deviceId}`;
    return result.count;
  }

  async countForDevice(deviceId: string): Promise<number> {
    const [row] = await this.client.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM telemetry WHERE device_id = ${deviceId}`;
    return row?.count ?? 0;
  }
}
