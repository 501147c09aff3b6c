import type { ReservedSql, Sql, TransactionSql } from 'postgres';
import type { Interval } from '../history-tiers.js';

/** TimescaleDB's catalogs hold timestamptz as its internal time: microseconds since the Unix epoch. */

export interface AggregateFreshness {
  /** Epoch ms: buckets before it are materialized (where not invalidated), after it computed from raw rows. */
  watermarkMs: number;
  /** Ranges (inclusive, epoch ms) whose materialized figures may be out of date: rows changed since the refresh. */
  invalidated: Interval[];
}

/**
 * What a continuous aggregate has not materialized yet, read from TimescaleDB's catalog in the caller's
 * snapshot: the watermark, and the invalidation ranges that late or changed raw rows left and no refresh has
 * processed yet — in the raw table's log, in the aggregate's log, and (TimescaleDB 2.28 on) in the ranges a
 * running refresh has taken from the log but not yet written. A late row and its invalidation are written by
 * the same transaction, and a refresh writes its figures and removes the range in one, so a single snapshot
 * sees each late row either in a range or in the figures.
 *
 * These are catalog tables (readable by every role), stable from TimescaleDB 2.11 to 2.28 (2.23 and 2.28 are
 * what this project runs against).
 */
export class AggregateFreshnessReader {
  private hasRangesTable: Promise<boolean> | undefined;

  async read(
    tx: Sql | TransactionSql | ReservedSql,
    view: string,
    range: { fromMs: number; toMs: number },
  ): Promise<AggregateFreshness> {
    this.hasRangesTable ??= tx<{ present: boolean }[]>`
      SELECT to_regclass('_timescaledb_catalog.continuous_aggs_materialization_ranges') IS NOT NULL AS present`.then(
      ([row]) => Boolean(row?.present),
    );
    const withRanges = await this.hasRangesTable;
    const fromUs = toInternal(range.fromMs);
    const toUs = toInternal(range.toMs);
    const overlaps = tx`greatest_modified_value >= ${fromUs}::bigint AND lowest_modified_value < ${toUs}::bigint`;
    const rows = await tx<{ kind: 'w' | 'i'; low: number; high: number | null }[]>`
      WITH cagg AS (
        SELECT mat_hypertable_id, raw_hypertable_id FROM _timescaledb_catalog.continuous_agg
        WHERE user_view_schema = current_schema() AND user_view_name = ${view}
      )
      SELECT 'w' AS kind, ${epochMs(tx, 'watermark')} AS low, NULL::float8 AS high
      FROM _timescaledb_catalog.continuous_aggs_watermark
      WHERE mat_hypertable_id = (SELECT mat_hypertable_id FROM cagg)
      UNION ALL
      SELECT 'i', ${epochMs(tx, 'lowest_modified_value')}, ${epochMs(tx, 'greatest_modified_value')}
      FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log
      WHERE hypertable_id = (SELECT raw_hypertable_id FROM cagg) AND ${overlaps}
      UNION ALL
      SELECT 'i', ${epochMs(tx, 'lowest_modified_value')}, ${epochMs(tx, 'greatest_modified_value')}
      FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log
      WHERE materialization_id = (SELECT mat_hypertable_id FROM cagg) AND ${overlaps}
      ${
        withRanges
          ? tx`UNION ALL
      SELECT 'i', ${epochMs(tx, 'lowest_modified_value')}, ${epochMs(tx, 'greatest_modified_value')}
      FROM _timescaledb_catalog.continuous_aggs_materialization_ranges
      WHERE materialization_id = (SELECT mat_hypertable_id FROM cagg) AND ${overlaps}`
          : tx``
      }`;
    const watermark = rows.find((row) => row.kind === 'w');
    if (!watermark) throw new Error(`${view} is not a continuous aggregate`);
    return {
      watermarkMs: watermark.low,
      invalidated: rows.filter((row) => row.kind === 'i').map((row) => [row.low, row.high!] as const),
    };
  }
}

/** Epoch ms as the catalog's bigint, clamped to its range (the extremes mean -infinity and +infinity). */
function toInternal(ms: number): string {
  if (ms === Number.NEGATIVE_INFINITY) return '-9223372036854775808';
  if (ms === Number.POSITIVE_INFINITY) return '9223372036854775807';
  return String(BigInt(Math.round(ms)) * 1000n);
}

function epochMs(tx: Sql | TransactionSql | ReservedSql, column: string) {
  const value = tx(column);
  return tx`(CASE WHEN ${value} = -9223372036854775808 THEN '-Infinity'::float8
    WHEN ${value} = 9223372036854775807 THEN 'Infinity'::float8
    ELSE (${value} / 1000.0)::float8 END)`;
}
