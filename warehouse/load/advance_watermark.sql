-- After a daily run's load: the two ledgers' entries it covered are done.
INSERT INTO core.load_watermark (recomputed_until)
SELECT MAX(recomputed_at) FROM staging_aggregated.kpi_recomputed_dates
HAVING MAX(recomputed_at) > (SELECT COALESCE(MAX(recomputed_until), TIMESTAMP '1970-01-01 00:00:00') FROM core.load_watermark);
INSERT INTO core.readings_watermark (landed_until)
SELECT MAX(landed_at) FROM staging_processed.sensor_readings_enriched__landed_dates
HAVING MAX(landed_at) > (SELECT COALESCE(MAX(landed_until), TIMESTAMP '1970-01-01 00:00:00') FROM core.readings_watermark);
