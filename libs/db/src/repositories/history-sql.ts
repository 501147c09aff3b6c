import type { ReservedSql, Sql, TransactionSql } from 'postgres';
import type { DatabaseMode } from '../database-mode.js';
import type { Interval } from '../history-tiers.js';
import type { HistoryAgg } from './telemetry-history.repository.js';

/** The pool, a transaction or a reserved connection: each runs a statement. */
export type Runner = Sql | TransactionSql | ReservedSql;

/**
 * Over the continuous aggregates' columns (see migrations/0006_timescale_tiers.sql). Sums are numeric, so they add
 * up exactly in any order: an average is the same number whatever plan, tier or cursor computed it.
 */
export const AGGREGATE_EXPRESSIONS: Record<HistoryAgg, string> = {
  avg: 'sum("sum") / sum("count")',
  min: 'min("min")',
  max: 'max("max")',
  count: 'sum("count")',
  last: 'last("last", bucket)',
};

export function rawExpression(agg: HistoryAgg, mode: DatabaseMode): string {
  switch (agg) {
    case 'avg':
      // As the aggregates compute it: an exact numeric sum, whatever order the rows come in.
      return 'sum(value::numeric) / count(*)';
    case 'min':
      return 'min(value)';
    case 'max':
      return 'max(value)';
    case 'count':
      return 'count(*)';
    case 'last':
      // Plain PostgreSQL has no last(): the greatest [time, value] pair is the newest sample (ties: the larger
      // value), and it keeps one small array per group where array_agg would keep every value.
      return mode === 'timescaledb' ? 'last(value, time)' : '(max(ARRAY[extract(epoch FROM time)::float8, value]))[2]';
  }
}

export function timeRange(sql: Runner, column: string, range: { fromMs: number; toMs: number }) {
  return sql`${sql(column)} >= to_timestamp(${range.fromMs}::float8 / 1000)
    AND ${sql(column)} < to_timestamp(${range.toMs}::float8 / 1000)`;
}

/** `column` in any of the intervals (epoch ms, half-open). */
export function anyInterval(sql: Runner, column: string, intervals: readonly Interval[]) {
  return intervals
    .map((interval) => timeRange(sql, column, { fromMs: interval[0], toMs: interval[1] }))
    .reduce((all, one) => sql`${all} OR ${one}`);
}

export function metricFilter(sql: Runner, metrics: string[] | '*') {
  return metrics === '*' ? sql`` : sql`AND metric = ANY(${metrics}::text[])`;
}
