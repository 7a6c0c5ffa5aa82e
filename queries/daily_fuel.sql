-- Daily fuel consumption: the trend, one row per metric date.
-- :from date          first metric date (inclusive)
-- :to date            last metric date (inclusive)
-- :city string?       only this city (every city when absent)
SELECT metric_date,
       SUM(intervals) AS intervals,
       SUM(distance_km) AS distance_km,
       SUM(fuel_l) AS fuel_l,
       100 * SUM(fuel_l) / SUM(distance_km) AS fuel_l_per_100km
FROM telemetry_metrics
WHERE metric_date BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (:city = '' OR city = :city)
GROUP BY metric_date
ORDER BY metric_date
