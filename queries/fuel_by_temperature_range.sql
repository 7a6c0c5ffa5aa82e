-- Fuel consumption by temperature range (Low < 10 °C <= Medium < 25 °C <= High).
SELECT temp_range,
       SUM(intervals) AS intervals,
       SUM(distance_km) AS distance_km,
       SUM(fuel_l) AS fuel_l,
       100 * SUM(fuel_l) / SUM(distance_km) AS fuel_l_per_100km
FROM telemetry_metrics
GROUP BY temp_range
ORDER BY temp_range
