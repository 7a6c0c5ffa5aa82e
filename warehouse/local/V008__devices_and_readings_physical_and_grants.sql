-- Local stand-in for V008__devices_and_readings_physical_and_grants.redshift.sql: the grants only
-- (PostgreSQL has no distribution or sort keys).
GRANT SELECT, INSERT, DELETE ON core.dim_device, core.fact_sensor_reading, core.reading_load_log, core.readings_watermark TO warehouse_loader;
GRANT SELECT ON core.dim_device, core.fact_sensor_reading, core.reading_load_log, core.readings_watermark TO warehouse_reader;
