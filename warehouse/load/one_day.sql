-- The date to load when a day is reloaded by hand (or by the tests): {{day}}, checked to be a
-- yyyy-MM-dd date before it is written here. It leaves the watermark where it is.
DROP TABLE IF EXISTS load_dates;
CREATE TEMP TABLE load_dates AS
SELECT DATE '{{day}}' AS metric_date, CAST(TO_CHAR(DATE '{{day}}', 'YYYYMMDD') AS INTEGER) AS date_key;
