-- The sensor side of the star: the device registry's history and the enriched readings (the
-- lake's processed device_updates and sensor_readings_enriched). Same conventions as V003: natural
-- keys, an 'unknown' member, and a log of what each load pointed there.

-- Type 2: one row per version of a sensor's device record (its vehicle, type and calibration),
-- valid from the version's updated_at until the next version's.
CREATE TABLE core.dim_device (
  device_version_key VARCHAR(96)      NOT NULL PRIMARY KEY,  -- sensor_id@version, or 'unknown'
  sensor_id          VARCHAR(64)      NOT NULL,
  version            BIGINT           NOT NULL,
  vehicle_id         VARCHAR(64),
  sensor_type        VARCHAR(64),
  calibration_scale  DOUBLE PRECISION,
  calibration_offset DOUBLE PRECISION,
  valid_from         TIMESTAMP        NOT NULL,
  valid_to           TIMESTAMP                               -- null while current
);

-- One row per enriched reading, under the device version the streaming job applied to it.
CREATE TABLE core.fact_sensor_reading (
  date_key           INTEGER          NOT NULL,
  reading_id         VARCHAR(128)     NOT NULL,
  reading_ts         TIMESTAMP        NOT NULL,
  hour_of_day        SMALLINT         NOT NULL,
  sensor_id          VARCHAR(64)      NOT NULL,
  device_version_key VARCHAR(96)      NOT NULL,
  vehicle_id         VARCHAR(64)      NOT NULL,  -- 'unknown' without a device record
  metric             VARCHAR(32)      NOT NULL,
  unit               VARCHAR(16)      NOT NULL,
  raw_value          DOUBLE PRECISION NOT NULL,
  calibrated_value   DOUBLE PRECISION,           -- null without a device record
  enrichment_status  VARCHAR(32)      NOT NULL   -- CALIBRATED or NO_DEVICE_RECORD
);

-- The latest load of each date's readings, and those it pointed at the unknown device.
CREATE TABLE core.reading_load_log (
  date_key               INTEGER NOT NULL,
  readings               BIGINT  NOT NULL,
  no_device_record       BIGINT  NOT NULL,  -- the streaming job found no device record for the sensor
  unknown_device_version BIGINT  NOT NULL   -- calibrated with a version the lake's device history lacks
);

-- How far the lake's ledger of event dates the readings job added to has been loaded.
CREATE TABLE core.readings_watermark (
  landed_until TIMESTAMP NOT NULL
);

INSERT INTO core.dim_device (device_version_key, sensor_id, version, valid_from) VALUES ('unknown', 'unknown', 0, TIMESTAMP '1970-01-01 00:00:00');
INSERT INTO core.dim_vehicle (vehicle_id) VALUES ('unknown');
