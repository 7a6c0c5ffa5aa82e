-- The device registry of record: vehicles, sensors, which vehicle a sensor is mounted on and
-- when (valid time), and each sensor's calibrations, versioned. The fleet team changes it only
-- through the functions of V002 (registry.add_vehicle, registry.mount_sensor, registry.calibrate),
-- which also append the sensor's resulting device record to registry.device_versions, the one
-- table DMS streams to the device-updates stream. Constraints refuse bad data here, whoever
-- writes it.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA registry;

CREATE TABLE registry.vehicles (
  vehicle_id    TEXT        PRIMARY KEY CONSTRAINT vehicle_id_format CHECK (vehicle_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
  registered_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE registry.sensors (
  sensor_id     TEXT        PRIMARY KEY CONSTRAINT sensor_id_format CHECK (sensor_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
  sensor_type   TEXT        NOT NULL CONSTRAINT sensor_type_format CHECK (sensor_type ~ '^[a-z][a-z0-9_]{0,31}$'),
  registered_at TIMESTAMPTZ NOT NULL
);

-- A sensor is on one vehicle at a time: its mountings never overlap (an open end is "until now").
CREATE TABLE registry.mountings (
  sensor_id  TEXT      NOT NULL REFERENCES registry.sensors,
  vehicle_id TEXT      NOT NULL REFERENCES registry.vehicles,
  mounted    TSTZRANGE NOT NULL CONSTRAINT mounting_has_a_start CHECK (NOT isempty(mounted) AND NOT lower_inf(mounted)),
  CONSTRAINT sensor_on_one_vehicle_at_a_time EXCLUDE USING gist (sensor_id WITH =, mounted WITH &&)
);

-- Calibrations, versioned per sensor from 1, each valid from its time until the next version's.
-- The scale multiplies the raw value and must be positive (at least the contract's 0.000001).
CREATE TABLE registry.calibrations (
  sensor_id           TEXT             NOT NULL REFERENCES registry.sensors,
  calibration_version INTEGER          NOT NULL CONSTRAINT calibration_version_from_one CHECK (calibration_version >= 1),
  scale               DOUBLE PRECISION NOT NULL CONSTRAINT calibration_scale_positive CHECK (scale >= 0.000001),
  offset_value        DOUBLE PRECISION NOT NULL CONSTRAINT calibration_offset_finite CHECK (offset_value > '-Infinity' AND offset_value < 'Infinity'),
  valid_from          TIMESTAMPTZ      NOT NULL,
  PRIMARY KEY (sensor_id, calibration_version)
);

-- A calibration version follows the sensor's latest by exactly one, and never starts before it:
-- a version that goes backwards, skips, or is back-dated is refused.
CREATE FUNCTION registry.calibration_follows_the_latest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  latest registry.calibrations%ROWTYPE;
BEGIN
  SELECT * INTO latest FROM registry.calibrations WHERE sensor_id = NEW.sensor_id ORDER BY calibration_version DESC LIMIT 1;
  IF NEW.calibration_version <> COALESCE(latest.calibration_version, 0) + 1 THEN
    RAISE EXCEPTION 'calibration version % of sensor % does not follow its latest (%)', NEW.calibration_version, NEW.sensor_id, COALESCE(latest.calibration_version, 0)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'calibration_version_follows_the_latest';
  END IF;
  IF latest.valid_from IS NOT NULL AND NEW.valid_from < latest.valid_from THEN
    RAISE EXCEPTION 'calibration version % of sensor % starts at %, before version % (%)', NEW.calibration_version, NEW.sensor_id, NEW.valid_from, latest.calibration_version, latest.valid_from
      USING ERRCODE = 'check_violation', CONSTRAINT = 'calibration_not_back_dated';
  END IF;
  RETURN NEW;
END$$;
CREATE TRIGGER calibration_follows_the_latest BEFORE INSERT ON registry.calibrations
  FOR EACH ROW EXECUTE FUNCTION registry.calibration_follows_the_latest();

-- History is appended, never rewritten: a calibration is not updated or deleted.
CREATE FUNCTION registry.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% of registry.% are history: they are appended, never changed or removed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'check_violation', CONSTRAINT = 'history_is_append_only';
END$$;
CREATE TRIGGER calibrations_append_only BEFORE UPDATE OR DELETE ON registry.calibrations
  FOR EACH ROW EXECUTE FUNCTION registry.history_is_append_only();

-- The device records the platform streams (the device_updates contract), one row per version of
-- a sensor's record: a new version whenever its vehicle or its calibration changes. DMS streams
-- this table alone, inserts only, so a registry change reaches the platform exactly once and a
-- replayed change record is the same (sensor_id, version).
CREATE TABLE registry.device_versions (
  sensor_id          TEXT             NOT NULL REFERENCES registry.sensors,
  version            BIGINT           NOT NULL CONSTRAINT device_version_from_one CHECK (version >= 1),
  vehicle_id         TEXT             NOT NULL REFERENCES registry.vehicles,
  sensor_type        TEXT             NOT NULL,
  calibration_offset DOUBLE PRECISION NOT NULL,
  calibration_scale  DOUBLE PRECISION NOT NULL CONSTRAINT device_scale_positive CHECK (calibration_scale >= 0.000001),
  updated_at         TIMESTAMPTZ      NOT NULL,
  PRIMARY KEY (sensor_id, version)
);
CREATE TRIGGER device_versions_append_only BEFORE UPDATE OR DELETE ON registry.device_versions
  FOR EACH ROW EXECUTE FUNCTION registry.history_is_append_only();
