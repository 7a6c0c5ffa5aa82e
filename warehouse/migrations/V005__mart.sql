-- The KPI views the briefs ask for. mart.telemetry_metrics has the lake table's columns and must
-- equal it row for row (the tests and the local run check it); the others are per day and rolled
-- up over every day, from the interval grain (a distinct-vehicle count cannot be summed).

CREATE VIEW mart.telemetry_metrics AS
SELECT d.calendar_date AS metric_date, f.city, f.temp_range, f.weather_condition, f.customer_segment,
       f.intervals, f.vehicles, f.distance_km, f.fuel_l,
       CASE WHEN f.distance_km > 0 THEN 100 * f.fuel_l / f.distance_km END AS fuel_l_per_100km
FROM core.fact_daily_fuel f
JOIN core.dim_date d ON d.date_key = f.date_key;

-- The intervals the KPI counts, with their weather attributes.
CREATE VIEW mart.kpi_intervals AS
SELECT d.calendar_date AS metric_date, f.vehicle_id, f.city, w.temp_range, w.condition AS weather_condition, f.customer_segment, f.distance_km, f.fuel_l
FROM core.fact_fuel_interval f
JOIN core.dim_date d ON d.date_key = f.date_key
JOIN core.dim_weather w ON w.weather_key = f.weather_key
WHERE f.outcome = 'in_kpi';

CREATE VIEW mart.fuel_by_city_daily AS
SELECT metric_date, city, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY metric_date, city;

CREATE VIEW mart.fuel_by_city AS
SELECT city, MIN(metric_date) AS first_date, MAX(metric_date) AS last_date, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles,
       SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY city;

CREATE VIEW mart.fuel_by_temperature_range_daily AS
SELECT metric_date, temp_range, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY metric_date, temp_range;

CREATE VIEW mart.fuel_by_temperature_range AS
SELECT temp_range, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY temp_range;

CREATE VIEW mart.fuel_by_weather_condition_daily AS
SELECT metric_date, weather_condition, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY metric_date, weather_condition;

CREATE VIEW mart.fuel_by_weather_condition AS
SELECT weather_condition, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY weather_condition;

CREATE VIEW mart.fuel_by_customer_segment_daily AS
SELECT metric_date, customer_segment, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY metric_date, customer_segment;

CREATE VIEW mart.fuel_by_customer_segment AS
SELECT customer_segment, COUNT(*) AS intervals, COUNT(DISTINCT vehicle_id) AS vehicles, SUM(distance_km) AS distance_km, SUM(fuel_l) AS fuel_l,
       CASE WHEN SUM(distance_km) > 0 THEN 100 * SUM(fuel_l) / SUM(distance_km) END AS fuel_l_per_100km
FROM mart.kpi_intervals GROUP BY customer_segment;
