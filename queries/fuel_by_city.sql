-- Fuel consumption by city: a ratio of sums, never an average of ratios.
-- :from date          first metric date (inclusive)
-- :to date            last metric date (inclusive)
-- :city string?       only this city (every city when absent)
SELECT city,
       SUM(intervals) AS intervals,
       SUM(distance_km) AS distance_km,
       SUM(fuel_l) AS fuel_l,
       100 * SUM(fuel_l) / SUM(distance_km) AS fuel_l_per_100km
FROM telemetry_metrics
WHERE metric_date BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (:city = '' OR city = :city)
GROUP BY city
ORDER BY city
