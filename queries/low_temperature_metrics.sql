-- The brief's example: every metric row in the Low temperature range.
-- :from date          first metric date (inclusive)
-- :to date            last metric date (inclusive)
SELECT *
FROM telemetry_metrics
WHERE temp_range = 'Low'
  AND metric_date BETWEEN CAST(:from AS date) AND CAST(:to AS date)
ORDER BY metric_date, city, weather_condition, customer_segment
