-- TimescaleDB: turn telemetry into a compressed hypertable.
-- Runs everywhere: on plain PostgreSQL (no timescaledb extension available, or not preloaded) it does
-- nothing and the hub works on the plain table. The retention policy is not here because its interval
-- is a setting (TELEHUB_RETENTION_DAYS); the hub applies it at start-up.
DO $$
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  EXCEPTION WHEN others THEN
    RAISE NOTICE 'telehub: TimescaleDB not available (%), telemetry stays a plain table', SQLERRM;
    RETURN;
  END;

  -- One-day chunks: a day of a few thousand devices fits in memory with its index, and retention drops whole days.
  PERFORM create_hypertable('telemetry', by_range('time', INTERVAL '1 day'), migrate_data => true);

  -- Segment by device so "one device, a time range" reads one segment; order by metric then time so each
  -- metric's samples sit together, newest first, which is how the history queries read them.
  ALTER TABLE telemetry SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'metric, time DESC'
  );
  -- Chunks older than a week no longer receive late data in normal operation.
  PERFORM add_compression_policy('telemetry', INTERVAL '7 days', if_not_exists => true);
END
$$;
