-- The brief's example: every metric row in the Low temperature range.
SELECT * FROM telemetry_metrics WHERE temp_range = 'Low'
