-- TimescaleDB objects, second version: one definition of everything telehub creates on TimescaleDB, in a
-- function that this migration runs on databases where telemetry already is a hypertable, and that
-- `npm run db:convert-timescale` runs to convert a plain table once the extension is installed (a conversion
-- rewrites the table, so it is never done behind an operator's back at start-up). Every step is idempotent.
--
-- What changes against 0001/0002:
-- - No default b-tree on time (create_hypertable's, a second b-tree that every insert maintained). The read
--   path needs only (device_id, metric, time DESC). The aggregates' refreshes read "every device, a time
--   window": a BRIN index on time answers that for a few pages per refresh instead of a scan of the chunk.
-- - The aggregates keep sum(value::numeric) instead of avg: sums add up exactly in any order, so an average
--   over any number of minutes or hours is the same number whichever plan, tier or cursor computed it.
--   The first version's aggregates are dropped and created again, empty: the hub refreshes them from the raw
--   rows at start-up, in the background (the raw retention bounds what can be refilled).
-- - Refresh policies without a start limit (the hub bounds them by the raw retention at start-up, since a
--   refresh over dropped raw chunks would empty the aggregate there), so late data always reaches them;
--   TimescaleDB re-materializes only invalidated ranges, so a window reaching far back costs nothing without
--   late data. Compression on the aggregates; their retention policies are settings, applied by the hub.
CREATE OR REPLACE FUNCTION telehub_timescale_setup() RETURNS void
LANGUAGE plpgsql AS $setup$
BEGIN
  -- autosummarize: a block range is summarized as soon as it is full, so the index stays exact for the newest rows.
  -- Created before a conversion, it is copied to every chunk the rows move into.
  CREATE INDEX IF NOT EXISTS telemetry_time_brin_idx ON telemetry USING brin (time) WITH (autosummarize = on);
  -- One-day chunks: a day of a few thousand devices fits in memory with its index, and retention drops whole
  -- days. migrate_data moves the rows of a plain table into chunks (the conversion); a no-op on a hypertable.
  PERFORM create_hypertable('telemetry', by_range('time', INTERVAL '1 day'),
    if_not_exists => true, migrate_data => true, create_default_indexes => false);
  DROP INDEX IF EXISTS telemetry_time_idx;

  -- Segment by device so "one device, a time range" reads one segment; order by metric then time so each
  -- metric's samples sit together, newest first, which is how the history queries read them.
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                 WHERE hypertable_name = 'telemetry' AND hypertable_schema = current_schema() AND compression_enabled) THEN
    ALTER TABLE telemetry SET (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'device_id',
      timescaledb.compress_orderby = 'metric, time DESC'
    );
  END IF;
  -- Chunks older than a week rarely receive late data; the hub writes rows for them in statements of their own.
  PERFORM add_compression_policy('telemetry', INTERVAL '7 days', if_not_exists => true);

  -- The first version's aggregates (an avg column) are replaced.
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'telemetry_1m' AND column_name = 'avg') THEN
    DROP MATERIALIZED VIEW telemetry_1m;
  END IF;
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'telemetry_1h' AND column_name = 'avg') THEN
    DROP MATERIALIZED VIEW telemetry_1h;
  END IF;

  -- Both on the raw table, not 1h on top of 1m: each is refreshed from the rows themselves, and a late row is
  -- one invalidation for each. materialized_only = false (real-time aggregation): buckets past the last refresh
  -- are computed from raw rows at query time. WITH NO DATA lets this run inside a transaction.
  IF to_regclass('telemetry_1m') IS NULL THEN
    CREATE MATERIALIZED VIEW telemetry_1m
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT time_bucket(INTERVAL '1 minute', time) AS bucket,
             device_id,
             metric,
             sum(value::numeric) AS sum,
             count(*) AS count,
             min(value) AS min,
             max(value) AS max,
             last(value, time) AS last
      FROM telemetry
      GROUP BY bucket, device_id, metric
    WITH NO DATA;
  END IF;
  IF to_regclass('telemetry_1h') IS NULL THEN
    CREATE MATERIALIZED VIEW telemetry_1h
    WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT time_bucket(INTERVAL '1 hour', time) AS bucket,
             device_id,
             metric,
             sum(value::numeric) AS sum,
             count(*) AS count,
             min(value) AS min,
             max(value) AS max,
             last(value, time) AS last
      FROM telemetry
      GROUP BY bucket, device_id, metric
    WITH NO DATA;
  END IF;

  -- buckets_per_batch: a policy run refreshes its window in batches of this many buckets, each in a transaction
  -- of its own. TimescaleDB's default is 1 bucket, so late rows spread over days cost one transaction per
  -- minute they span (10 days: 14,400); a day (1 minute) and a week (1 hour) per batch keep each short enough.
  PERFORM add_continuous_aggregate_policy('telemetry_1m',
    start_offset => NULL, end_offset => INTERVAL '1 minute',
    schedule_interval => INTERVAL '1 minute', if_not_exists => true, buckets_per_batch => 1440);
  PERFORM add_continuous_aggregate_policy('telemetry_1h',
    start_offset => NULL, end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes', if_not_exists => true, buckets_per_batch => 168);

  -- Compressed like the raw table, segmented by series. A late row still reaches a compressed aggregate chunk:
  -- the refresh writes into it.
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
                 WHERE view_name = 'telemetry_1m' AND view_schema = current_schema() AND compression_enabled) THEN
    ALTER MATERIALIZED VIEW telemetry_1m SET (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'device_id, metric',
      timescaledb.compress_orderby = 'bucket DESC'
    );
  END IF;
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
                 WHERE view_name = 'telemetry_1h' AND view_schema = current_schema() AND compression_enabled) THEN
    ALTER MATERIALIZED VIEW telemetry_1h SET (
      timescaledb.compress,
      timescaledb.compress_segmentby = 'device_id, metric',
      timescaledb.compress_orderby = 'bucket DESC'
    );
  END IF;
  PERFORM add_compression_policy('telemetry_1m', compress_after => INTERVAL '7 days', if_not_exists => true);
  PERFORM add_compression_policy('telemetry_1h', compress_after => INTERVAL '30 days', if_not_exists => true);
END
$setup$;
--> statement-breakpoint
-- On plain PostgreSQL (no extension, or telemetry left a plain table) nothing else happens here: the hub
-- names the conversion command when the extension is present but the table is plain.
DO $$
BEGIN
  -- Catalog lookups only: no statement that fails when TimescaleDB is absent.
  IF to_regclass('_timescaledb_catalog.hypertable') IS NULL THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                 WHERE hypertable_name = 'telemetry' AND hypertable_schema = current_schema()) THEN
    RETURN;
  END IF;
  PERFORM telehub_timescale_setup();
END
$$;
