-- The dates to load on the daily run: every KPI date the aggregation recomputed since the last
-- load (the lake's ledger aggregated.kpi_recomputed_dates, past the warehouse's watermark), late
-- dates included, so the star follows every correction the lake makes; and every date the
-- readings job added readings to since the last load (its ledger, past the readings watermark),
-- so a reading that landed days late reaches the star too.
DROP TABLE IF EXISTS load_dates;
CREATE TEMP TABLE load_dates AS
SELECT metric_date, CAST(TO_CHAR(metric_date, 'YYYYMMDD') AS INTEGER) AS date_key
FROM (SELECT metric_date FROM staging_aggregated.kpi_recomputed_dates
      WHERE recomputed_at > (SELECT COALESCE(MAX(recomputed_until), TIMESTAMP '1970-01-01 00:00:00') FROM core.load_watermark)
      UNION
      SELECT event_date FROM staging_processed.sensor_readings_enriched__landed_dates
      WHERE landed_at > (SELECT COALESCE(MAX(landed_until), TIMESTAMP '1970-01-01 00:00:00') FROM core.readings_watermark)) pending;
