-- The star's load for the dates in load_dates (pending_dates.sql or one_day.sql runs first, in the
-- same transaction: the Data API's BatchExecuteStatement, or one transaction on PostgreSQL).
-- Idempotent: every statement replaces what it writes for those dates, or rebuilds a dimension
-- from the lake's current state, so a rerun, or an older date reloaded after a later one, gives
-- the same rows.

-- The dates.
DELETE FROM core.dim_date WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.dim_date (date_key, calendar_date, year, month, day_of_month, iso_weekday)
SELECT date_key, metric_date, CAST(DATE_PART('year', metric_date) AS SMALLINT), CAST(DATE_PART('month', metric_date) AS SMALLINT),
       CAST(DATE_PART('day', metric_date) AS SMALLINT),
       CAST(CASE WHEN DATE_PART('dow', metric_date) = 0 THEN 7 ELSE DATE_PART('dow', metric_date) END AS SMALLINT)
FROM load_dates;

-- Customers, type 2: every version of the CRM history, valid from its commit until the next one.
-- Rebuilt whole (it is small), under keys that do not change, so older facts keep their versions.
DELETE FROM core.dim_customer WHERE customer_version_key <> 'unknown';
INSERT INTO core.dim_customer (customer_version_key, customer_id, segment, valid_from, valid_to, version_number, is_deleted)
SELECT customer_id || '@' || TO_CHAR(commit_ts, 'YYYY-MM-DD"T"HH24:MI:SS.US'), customer_id,
       CASE WHEN op = 'D' THEN NULL ELSE segment END, commit_ts,
       LEAD(commit_ts) OVER (PARTITION BY customer_id ORDER BY commit_ts),
       CAST(ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY commit_ts) AS INTEGER), op = 'D'
FROM staging_processed.customers__history;

-- Shipments: upserted, never deleted here, so a fact of an older date keeps the shipment it had.
DELETE FROM core.dim_shipment WHERE shipment_id IN (SELECT shipment_id FROM staging_processed.shipments);
INSERT INTO core.dim_shipment (shipment_id, vehicle_id, customer_id, origin_city, destination_city, departed_at, arrived_at)
SELECT shipment_id, vehicle_id, customer_id, origin_city, destination_city, departed_at, arrived_at FROM staging_processed.shipments;

-- Devices, type 2: every version of every sensor's record, valid from its updated_at until the
-- next version's. Rebuilt whole (it is small), under keys that do not change (sensor@version).
DELETE FROM core.dim_device WHERE device_version_key <> 'unknown';
INSERT INTO core.dim_device (device_version_key, sensor_id, version, vehicle_id, sensor_type, calibration_scale, calibration_offset, valid_from, valid_to)
SELECT sensor_id || '@' || CAST(version AS VARCHAR(20)), sensor_id, version, vehicle_id, sensor_type, calibration_scale, calibration_offset, updated_at,
       LEAD(updated_at) OVER (PARTITION BY sensor_id ORDER BY version)
FROM staging_processed.device_updates;

-- Cities and vehicles: added as they appear (a vehicle in the dates' intervals or readings).
INSERT INTO core.dim_city (city)
SELECT DISTINCT city FROM staging_processed.weather w WHERE NOT EXISTS (SELECT 1 FROM core.dim_city c WHERE c.city = w.city);
INSERT INTO core.dim_vehicle (vehicle_id)
SELECT vehicle_id FROM (
  SELECT vehicle_id FROM staging_aggregated.fuel_intervals WHERE metric_date IN (SELECT metric_date FROM load_dates)
  UNION
  SELECT vehicle_id FROM staging_processed.sensor_readings_enriched WHERE vehicle_id IS NOT NULL AND CAST(ts AS DATE) IN (SELECT metric_date FROM load_dates)
) seen
WHERE NOT EXISTS (SELECT 1 FROM core.dim_vehicle v WHERE v.vehicle_id = seen.vehicle_id);

-- The dates' weather, observed or flagged missing.
DELETE FROM core.dim_weather WHERE weather_key <> 'unknown' AND CAST(observation_hour AS DATE) IN (SELECT metric_date FROM load_dates);
INSERT INTO core.dim_weather (weather_key, city, observation_hour, temperature_c, temp_range, condition, is_missing)
SELECT city || '@' || TO_CHAR(observation_hour, 'YYYY-MM-DD"T"HH24'), city, observation_hour, temperature_c, temp_range, condition, is_missing
FROM staging_processed.weather WHERE CAST(observation_hour AS DATE) IN (SELECT metric_date FROM load_dates);

-- The dates' intervals, each pointed at the customer version valid at its time (before a
-- customer's first known version, that first version, as the lake's KPI takes it).
DELETE FROM core.fact_fuel_interval WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.fact_fuel_interval (date_key, interval_end, hour_of_day, vehicle_id, shipment_id, customer_version_key, city, weather_key, customer_segment, distance_km, fuel_l, outcome)
SELECT d.date_key, i.ts, CAST(DATE_PART('hour', i.ts) AS SMALLINT), i.vehicle_id,
       COALESCE(s.shipment_id, 'unknown'), COALESCE(c.customer_version_key, 'unknown'), COALESCE(i.city, 'unknown'), COALESCE(w.weather_key, 'unknown'),
       COALESCE(i.customer_segment, 'unknown'), i.distance_km, i.fuel_l, i.outcome
FROM staging_aggregated.fuel_intervals i
JOIN load_dates d ON d.metric_date = i.metric_date
LEFT JOIN core.dim_shipment s ON s.shipment_id = i.shipment_id
LEFT JOIN core.dim_customer c ON c.customer_id = i.customer_id AND c.customer_version_key <> 'unknown'
  AND ((c.valid_from <= i.ts AND (c.valid_to IS NULL OR i.ts < c.valid_to)) OR (c.version_number = 1 AND i.ts < c.valid_from))
LEFT JOIN core.dim_weather w ON w.weather_key = i.city || '@' || TO_CHAR(i.ts, 'YYYY-MM-DD"T"HH24') AND NOT w.is_missing;

-- The KPI's grain, from the intervals the KPI counts.
DELETE FROM core.fact_daily_fuel WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.fact_daily_fuel (date_key, city, temp_range, weather_condition, customer_segment, intervals, vehicles, distance_km, fuel_l)
SELECT f.date_key, f.city, w.temp_range, w.condition, f.customer_segment, COUNT(*), COUNT(DISTINCT f.vehicle_id), SUM(f.distance_km), SUM(f.fuel_l)
FROM core.fact_fuel_interval f JOIN core.dim_weather w ON w.weather_key = f.weather_key
WHERE f.date_key IN (SELECT date_key FROM load_dates) AND f.outcome = 'in_kpi'
GROUP BY f.date_key, f.city, w.temp_range, w.condition, f.customer_segment;

-- The dates' readings, each under the device version the streaming job applied (its calibration
-- is the one in the fact); a reading with no device record, or with a version the lake's device
-- history lacks, under the unknown device, counted below.
DELETE FROM core.fact_sensor_reading WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.fact_sensor_reading (date_key, reading_id, reading_ts, hour_of_day, sensor_id, device_version_key, vehicle_id, metric, unit, raw_value, calibrated_value, enrichment_status)
SELECT d.date_key, r.reading_id, r.ts, CAST(DATE_PART('hour', r.ts) AS SMALLINT), r.sensor_id, COALESCE(v.device_version_key, 'unknown'),
       COALESCE(r.vehicle_id, 'unknown'), r.metric, r.unit, r.raw_value, r.calibrated_value, r.enrichment_status
FROM staging_processed.sensor_readings_enriched r
JOIN load_dates d ON d.metric_date = CAST(r.ts AS DATE)
LEFT JOIN core.dim_device v ON v.sensor_id = r.sensor_id AND v.version = r.device_version;

DELETE FROM core.reading_load_log WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.reading_load_log (date_key, readings, no_device_record, unknown_device_version)
SELECT d.date_key, COUNT(f.date_key),
       COALESCE(SUM(CASE WHEN f.enrichment_status = 'NO_DEVICE_RECORD' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN f.enrichment_status <> 'NO_DEVICE_RECORD' AND f.device_version_key = 'unknown' THEN 1 ELSE 0 END), 0)
FROM load_dates d LEFT JOIN core.fact_sensor_reading f ON f.date_key = d.date_key
GROUP BY d.date_key;

-- What the load wrote per date, and what went to the unknown members.
DELETE FROM core.load_log WHERE date_key IN (SELECT date_key FROM load_dates);
INSERT INTO core.load_log (date_key, intervals, daily_rows, without_shipment, unknown_customer, without_weather)
SELECT d.date_key, COUNT(f.date_key), COALESCE(MAX(r.daily_rows), 0),
       COALESCE(SUM(CASE WHEN f.outcome = 'no_shipment' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN f.shipment_id <> 'unknown' AND f.customer_version_key = 'unknown' THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN f.shipment_id <> 'unknown' AND f.weather_key = 'unknown' THEN 1 ELSE 0 END), 0)
FROM load_dates d
LEFT JOIN core.fact_fuel_interval f ON f.date_key = d.date_key
LEFT JOIN (SELECT date_key, COUNT(*) AS daily_rows FROM core.fact_daily_fuel GROUP BY date_key) r ON r.date_key = d.date_key
GROUP BY d.date_key;
