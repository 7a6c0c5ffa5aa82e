-- Local stand-in for V002__staging.redshift.sql: the lake tables the load reads, as plain tables of
-- the same schemas, names and columns (the tests fill them by hand, the local run from Spark).
-- On Redshift the external schemas show every table of the Glue databases as the lake adds them;
-- here a table the load comes to read is added to this file (a throwaway database runs it whole).
CREATE SCHEMA IF NOT EXISTS staging_processed;
CREATE SCHEMA IF NOT EXISTS staging_aggregated;

CREATE TABLE staging_processed.customers__history (
  customer_id VARCHAR(64), customer_name VARCHAR(256), segment VARCHAR(64), country_code VARCHAR(8),
  created_at TIMESTAMP, updated_at TIMESTAMP, op VARCHAR(1), commit_ts TIMESTAMP
);

CREATE TABLE staging_processed.shipments (
  shipment_id VARCHAR(64), customer_id VARCHAR(64), vehicle_id VARCHAR(64), origin_city VARCHAR(64), destination_city VARCHAR(64),
  departed_at TIMESTAMP, arrived_at TIMESTAMP, cargo_weight_kg DOUBLE PRECISION, status VARCHAR(32)
);

CREATE TABLE staging_processed.weather (
  city VARCHAR(64), observation_hour TIMESTAMP, temperature_c DOUBLE PRECISION, precipitation_mm DOUBLE PRECISION, wind_speed_kmh DOUBLE PRECISION,
  weather_code INTEGER, condition VARCHAR(32), temp_range VARCHAR(16), is_missing BOOLEAN
);

CREATE TABLE staging_processed.device_updates (
  sensor_id VARCHAR(64), version BIGINT, vehicle_id VARCHAR(64), sensor_type VARCHAR(64), calibration_offset DOUBLE PRECISION,
  calibration_scale DOUBLE PRECISION, updated_at TIMESTAMP
);

CREATE TABLE staging_processed.sensor_readings_enriched (
  reading_id VARCHAR(128), sensor_id VARCHAR(64), vehicle_id VARCHAR(64), sensor_type VARCHAR(64), ts TIMESTAMP, metric VARCHAR(32),
  raw_value DOUBLE PRECISION, unit VARCHAR(16), calibrated_value DOUBLE PRECISION, device_version BIGINT, enrichment_status VARCHAR(32)
);

CREATE TABLE staging_processed.sensor_readings_enriched__landed_dates (
  event_date DATE, landed_at TIMESTAMP, ingest_date VARCHAR(10)
);

CREATE TABLE staging_aggregated.fuel_intervals (
  vehicle_id VARCHAR(64), ts TIMESTAMP, metric_date DATE, shipment_id VARCHAR(64), customer_id VARCHAR(64), city VARCHAR(64),
  temp_range VARCHAR(16), weather_condition VARCHAR(32), customer_segment VARCHAR(64), distance_km DOUBLE PRECISION, fuel_l DOUBLE PRECISION,
  outcome VARCHAR(32)
);

CREATE TABLE staging_aggregated.telemetry_metrics (
  metric_date DATE, city VARCHAR(64), temp_range VARCHAR(16), weather_condition VARCHAR(32), customer_segment VARCHAR(64),
  intervals BIGINT, vehicles BIGINT, distance_km DOUBLE PRECISION, fuel_l DOUBLE PRECISION, fuel_l_per_100km DOUBLE PRECISION
);

CREATE TABLE staging_aggregated.kpi_recomputed_dates (
  metric_date DATE, recomputed_at TIMESTAMP
);
