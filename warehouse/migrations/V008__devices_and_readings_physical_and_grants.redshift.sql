-- V007's tables: their physical design, and the roles' grants (V006 granted on the tables that
-- existed then). The readings are distributed on the sensor, which spreads them evenly (several
-- sensors a vehicle, all reporting on the same schedule), and sorted on the date, which every
-- load and query filters on; the device history is small and copied to every node (ALL).
-- local/V008__devices_and_readings_physical_and_grants.sql is the grants in PostgreSQL's words.
ALTER TABLE core.fact_sensor_reading ALTER DISTSTYLE KEY DISTKEY sensor_id;
ALTER TABLE core.fact_sensor_reading ALTER COMPOUND SORTKEY (date_key, sensor_id);
ALTER TABLE core.dim_device ALTER DISTSTYLE ALL;
ALTER TABLE core.reading_load_log ALTER DISTSTYLE ALL;
GRANT SELECT, INSERT, DELETE ON core.dim_device, core.fact_sensor_reading, core.reading_load_log, core.readings_watermark TO ROLE warehouse_loader;
GRANT SELECT ON core.dim_device, core.fact_sensor_reading, core.reading_load_log, core.readings_watermark TO ROLE warehouse_reader;
