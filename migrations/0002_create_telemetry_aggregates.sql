-- TimescaleDB: continuous aggregates of telemetry at 1 minute and 1 hour, with refresh policies.
-- Both are built on the raw table (not 1h on top of 1m): an average of averages would be wrong.
-- materialized_only = false turns on real-time aggregation, so the newest, not yet materialized
-- buckets are computed from raw rows at query time and dashboards see current data.
-- WITH NO DATA lets this run inside the migration transaction; the policies fill them.
-- On plain PostgreSQL (telemetry is not a hypertable) it does nothing.
DO $$
BEGIN
  -- Two separate checks: PL/pgSQL plans each expression whole, and the second names a schema that
  -- exists only with the extension.
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry') THEN
    RETURN;
  END IF;

  CREATE MATERIALIZED VIEW telemetry_1m
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
    SELECT time_bucket(INTERVAL '1 minute', time) AS bucket,
           device_id,
           metric,
           avg(value) AS avg,
           min(value) AS min,
           max(value) AS max,
           count(*) AS count,
           last(value, time) AS last
    FROM telemetry
    GROUP BY bucket, device_id, metric
  WITH NO DATA;

  CREATE MATERIALIZED VIEW telemetry_1h
  WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
    SELECT time_bucket(INTERVAL '1 hour', time) AS bucket,
           device_id,
           metric,
           avg(value) AS avg,
           min(value) AS min,
           max(value) AS max,
           count(*) AS count,
           last(value, time) AS last
    FROM telemetry
    GROUP BY bucket, device_id, metric
  WITH NO DATA;

  PERFORM add_continuous_aggregate_policy('telemetry_1m',
    start_offset => INTERVAL '2 hours', end_offset => INTERVAL '1 minute',
    schedule_interval => INTERVAL '1 minute', if_not_exists => true);
  PERFORM add_continuous_aggregate_policy('telemetry_1h',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes', if_not_exists => true);
END
$$;
