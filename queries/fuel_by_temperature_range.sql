-- Fuel consumption by temperature range (Low < 10 °C <= Medium < 25 °C <= High).
-- :from date          first metric date (inclusive)
-- :to date            last metric date (inclusive)
-- :city string?       only this city (every city when absent)
SELECT temp_range,
       SUM(intervals) AS intervals,
       SUM(distance_km) AS distance_km,
       SUM(fuel_l) AS fuel_l,
       100 * SUM(fuel_l) / SUM(distance_km) AS fuel_l_per_100km
FROM telemetry_metrics
WHERE metric_date BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (:city = '' OR city = :city)
GROUP BY temp_range
ORDER BY temp_range
