-- Fuel consumption by weather condition.
SELECT weather_condition,
       SUM(intervals) AS intervals,
       SUM(distance_km) AS distance_km,
       SUM(fuel_l) AS fuel_l,
       100 * SUM(fuel_l) / SUM(distance_km) AS fuel_l_per_100km
FROM telemetry_metrics
GROUP BY weather_condition
ORDER BY weather_condition
