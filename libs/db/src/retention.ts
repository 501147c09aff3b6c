import type { DatabaseClient } from './client.js';
import type { DatabaseMode } from './database-mode.js';

/**
 * Makes the database keep `days` days of telemetry (0 = keep forever).
 * TimescaleDB: a retention policy that drops whole chunks (cheap). Plain PostgreSQL has no such job,
 * so the hub calls `deleteExpiredTelemetry` on a timer instead.
 */
export async function applyRetentionPolicy(client: DatabaseClient, mode: DatabaseMode, days: number): Promise<void> {
  if (mode !== 'timescaledb') return;
  await client.sql.begin(async (tx) => {
    await tx`SELECT remove_retention_policy('telemetry', if_exists => true)`;
    if (days > 0) {
      await tx`SELECT add_retention_policy('telemetry', make_interval(days => ${days}::int))`;
    }
  });
}

/** Plain-PostgreSQL retention: deletes rows older than `days` days, in bounded slices so locks stay short. */
export async function deleteExpiredTelemetry(
  client: DatabaseClient,
  days: number,
  sliceRows = 50_000,
): Promise<number> {
  if (days <= 0) return 0;
  let deleted = 0;
  for (;;) {
    const result = await client.sql`
      DELETE FROM telemetry WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM telemetry WHERE time < now() - make_interval(days => ${days}::int) LIMIT ${sliceRows}))`;
    deleted += result.count;
    if (result.count < sliceRows) return deleted;
  }
}
