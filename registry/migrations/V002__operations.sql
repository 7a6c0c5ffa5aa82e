-- The registry's operations, each one transaction, idempotent (the same call twice changes
-- nothing and says 'unchanged'), with a clear error for a call that contradicts the registry.
-- A change to what a sensor's device record says (its vehicle, its calibration) appends exactly
-- one registry.device_versions row, effective at the change's time.

-- Device versions follow each other by one, in time order: the stream's versions are then the
-- registry's order of events, and a reading's record is the latest version at or before it.
CREATE FUNCTION registry.device_version_follows_the_latest() RETURNS trigger LANGUAGE plpgsql AS $$
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
  RETURN NEW;
END$$;
CREATE TRIGGER device_version_follows_the_latest BEFORE INSERT ON registry.device_versions
  FOR EACH ROW EXECUTE FUNCTION registry.device_version_follows_the_latest();

-- The sensor's device record as it stands at `at`, appended as its next version.
CREATE FUNCTION registry.append_device_version(p_sensor TEXT, p_at TIMESTAMPTZ) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  v_version BIGINT;
BEGIN
  INSERT INTO registry.device_versions (sensor_id, version, vehicle_id, sensor_type, calibration_offset, calibration_scale, updated_at)
  SELECT s.sensor_id, COALESCE((SELECT MAX(version) FROM registry.device_versions WHERE sensor_id = p_sensor), 0) + 1,
         m.vehicle_id, s.sensor_type, c.offset_value, c.scale, p_at
  FROM registry.sensors s
  JOIN registry.mountings m ON m.sensor_id = s.sensor_id AND m.mounted @> p_at
  JOIN LATERAL (SELECT * FROM registry.calibrations WHERE sensor_id = s.sensor_id AND valid_from <= p_at ORDER BY calibration_version DESC LIMIT 1) c ON TRUE
  WHERE s.sensor_id = p_sensor
  RETURNING version INTO v_version;
  IF v_version IS NULL THEN
    RAISE EXCEPTION 'sensor % has no vehicle or no calibration at %', p_sensor, p_at USING ERRCODE = 'check_violation';
  END IF;
  RETURN v_version;
END$$;

CREATE FUNCTION registry.add_vehicle(p_vehicle TEXT, p_at TIMESTAMPTZ) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO registry.vehicles (vehicle_id, registered_at) VALUES (p_vehicle, p_at) ON CONFLICT (vehicle_id) DO NOTHING;
  RETURN CASE WHEN FOUND THEN 'added' ELSE 'unchanged' END;
END$$;

-- Mounts a sensor on a vehicle from `at`. A new sensor is registered with its type and its first
-- calibration (the factory's; identity by default). A sensor on another vehicle is moved: its
-- mounting there ends at `at`. Mounting it where it already is changes nothing.
CREATE FUNCTION registry.mount_sensor(p_sensor TEXT, p_type TEXT, p_vehicle TEXT, p_at TIMESTAMPTZ,
                                      p_scale DOUBLE PRECISION DEFAULT 1, p_offset DOUBLE PRECISION DEFAULT 0) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  known registry.sensors%ROWTYPE;
  current registry.mountings%ROWTYPE;
  first registry.calibrations%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM registry.vehicles WHERE vehicle_id = p_vehicle) THEN
    RAISE EXCEPTION 'vehicle % is not registered (add-vehicle first)', p_vehicle USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT * INTO known FROM registry.sensors WHERE sensor_id = p_sensor FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO registry.sensors (sensor_id, sensor_type, registered_at) VALUES (p_sensor, p_type, p_at);
    INSERT INTO registry.calibrations (sensor_id, calibration_version, scale, offset_value, valid_from) VALUES (p_sensor, 1, p_scale, p_offset, p_at);
    INSERT INTO registry.mountings (sensor_id, vehicle_id, mounted) VALUES (p_sensor, p_vehicle, tstzrange(p_at, NULL, '[)'));
    PERFORM registry.append_device_version(p_sensor, p_at);
    RETURN 'mounted';
  END IF;
  IF known.sensor_type <> p_type THEN
    RAISE EXCEPTION 'sensor % is a % sensor, not %', p_sensor, known.sensor_type, p_type USING ERRCODE = 'check_violation';
  END IF;
  SELECT * INTO first FROM registry.calibrations WHERE sensor_id = p_sensor AND calibration_version = 1;
  IF (p_scale, p_offset) IS DISTINCT FROM (first.scale, first.offset_value) AND (p_scale, p_offset) IS DISTINCT FROM (1::DOUBLE PRECISION, 0::DOUBLE PRECISION) THEN
    RAISE EXCEPTION 'sensor % is registered: change its calibration with calibrate, not mount-sensor', p_sensor USING ERRCODE = 'check_violation';
  END IF;
  SELECT * INTO current FROM registry.mountings WHERE sensor_id = p_sensor AND upper_inf(mounted);
  IF current.vehicle_id = p_vehicle THEN
    RETURN 'unchanged';
  END IF;
  IF p_at <= lower(current.mounted) THEN
    RAISE EXCEPTION 'sensor % is on vehicle % since %: a move must come after that', p_sensor, current.vehicle_id, lower(current.mounted) USING ERRCODE = 'check_violation';
  END IF;
  UPDATE registry.mountings SET mounted = tstzrange(lower(mounted), p_at, '[)') WHERE sensor_id = p_sensor AND upper_inf(mounted);
  INSERT INTO registry.mountings (sensor_id, vehicle_id, mounted) VALUES (p_sensor, p_vehicle, tstzrange(p_at, NULL, '[)'));
  PERFORM registry.append_device_version(p_sensor, p_at);
  RETURN 'moved';
END$$;

-- Calibrates a sensor: its next calibration version, valid from `at`. The same version with the
-- same values and time changes nothing; with others it is refused (a version is never rewritten).
CREATE FUNCTION registry.calibrate(p_sensor TEXT, p_version INTEGER, p_scale DOUBLE PRECISION, p_offset DOUBLE PRECISION, p_at TIMESTAMPTZ) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  existing registry.calibrations%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM registry.sensors WHERE sensor_id = p_sensor FOR UPDATE) THEN
    RAISE EXCEPTION 'sensor % is not registered (mount-sensor first)', p_sensor USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT * INTO existing FROM registry.calibrations WHERE sensor_id = p_sensor AND calibration_version = p_version;
  IF FOUND THEN
    IF (existing.scale, existing.offset_value, existing.valid_from) IS NOT DISTINCT FROM (p_scale, p_offset, p_at) THEN
      RETURN 'unchanged';
    END IF;
    RAISE EXCEPTION 'calibration version % of sensor % exists with other values (scale %, offset %, from %)', p_version, p_sensor, existing.scale, existing.offset_value, existing.valid_from
      USING ERRCODE = 'unique_violation';
  END IF;
  INSERT INTO registry.calibrations (sensor_id, calibration_version, scale, offset_value, valid_from) VALUES (p_sensor, p_version, p_scale, p_offset, p_at);
  PERFORM registry.append_device_version(p_sensor, p_at);
  RETURN 'calibrated';
END$$;
