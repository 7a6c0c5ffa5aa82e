-- The fleet team's login (issue 15): it changes the registry only through its three operations
-- and reads it, nothing else; the command (npm run registry) signs in with it, not with the master.
-- Its password, like DMS's, is set at deploy from its secret as a SCRAM verifier.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'registry_fleet') THEN
    CREATE ROLE registry_fleet NOLOGIN;
  END IF;
END$$;

-- The operations run with their owner's rights (the master who made them), so the login needs no
-- right on the tables to change them, and every change goes through a function's checks. Their
-- search path is fixed: a caller's schema cannot put its own objects in the way.
ALTER FUNCTION registry.add_vehicle(TEXT, TIMESTAMPTZ) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION registry.mount_sensor(TEXT, TEXT, TEXT, TIMESTAMPTZ, DOUBLE PRECISION, DOUBLE PRECISION) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION registry.calibrate(TEXT, INTEGER, DOUBLE PRECISION, DOUBLE PRECISION, TIMESTAMPTZ) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- PostgreSQL lets every role execute a new function: only the fleet's login may call the
-- operations, and nobody calls the helper that appends a version but the operations themselves.
REVOKE EXECUTE ON FUNCTION registry.add_vehicle(TEXT, TIMESTAMPTZ) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION registry.mount_sensor(TEXT, TEXT, TEXT, TIMESTAMPTZ, DOUBLE PRECISION, DOUBLE PRECISION) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION registry.calibrate(TEXT, INTEGER, DOUBLE PRECISION, DOUBLE PRECISION, TIMESTAMPTZ) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION registry.append_device_version(TEXT, TIMESTAMPTZ) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry.add_vehicle(TEXT, TIMESTAMPTZ) TO registry_fleet;
GRANT EXECUTE ON FUNCTION registry.mount_sensor(TEXT, TEXT, TEXT, TIMESTAMPTZ, DOUBLE PRECISION, DOUBLE PRECISION) TO registry_fleet;
GRANT EXECUTE ON FUNCTION registry.calibrate(TEXT, INTEGER, DOUBLE PRECISION, DOUBLE PRECISION, TIMESTAMPTZ) TO registry_fleet;
GRANT USAGE ON SCHEMA registry TO registry_fleet;
GRANT SELECT ON ALL TABLES IN SCHEMA registry TO registry_fleet;
