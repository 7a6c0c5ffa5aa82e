-- Two versions of a sensor's device record at the same instant: the stream's temporal join keeps
-- both at that time, and which one a reading at or after it gets would be left to the order the
-- engine stores them in. The first never applied to any reading anyway. So a sensor's changes
-- follow each other strictly in time: a change at the instant of the sensor's latest is refused
-- (mount the sensor with its calibration, or calibrate it after the mounting). V002 allowed an
-- equal time; this replaces its check. Existing rows are not rewritten (history is append-only).
CREATE OR REPLACE FUNCTION registry.device_version_follows_the_latest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  latest registry.device_versions%ROWTYPE;
BEGIN
  SELECT * INTO latest FROM registry.device_versions WHERE sensor_id = NEW.sensor_id ORDER BY version DESC LIMIT 1;
  IF NEW.version <> COALESCE(latest.version, 0) + 1 THEN
    RAISE EXCEPTION 'device version % of sensor % does not follow its latest (%)', NEW.version, NEW.sensor_id, COALESCE(latest.version, 0)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'device_version_follows_the_latest';
  END IF;
  IF latest.updated_at IS NOT NULL AND NEW.updated_at < latest.updated_at THEN
    RAISE EXCEPTION 'sensor % changed at %, before its latest change (%): changes are not back-dated', NEW.sensor_id, NEW.updated_at, latest.updated_at
      USING ERRCODE = 'check_violation', CONSTRAINT = 'device_change_not_back_dated';
  END IF;
  IF NEW.updated_at = latest.updated_at THEN
    RAISE EXCEPTION 'sensor % changed at %, the instant of its latest change (version %): one change an instant', NEW.sensor_id, NEW.updated_at, latest.version
      USING ERRCODE = 'check_violation', CONSTRAINT = 'device_changes_strictly_in_time_order';
  END IF;
  RETURN NEW;
END$$;
