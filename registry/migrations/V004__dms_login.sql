-- DMS's login (issue 15): it reads registry.device_versions, the one table it streams, and the
-- table's changes through a logical replication slot; nothing else. Its password is not here: at
-- deploy, the migrations' custom resource sets it from DMS's secret, as a SCRAM verifier
-- (lambda/registry-migrations), so no template, statement or log holds the password.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'registry_dms') THEN
    CREATE ROLE registry_dms NOLOGIN;
  END IF;
END$$;
-- Aurora grants replication through its rds_replication role (the master cannot give the
-- attribute itself); a plain PostgreSQL, the tests', has the attribute.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') THEN
    EXECUTE 'GRANT rds_replication TO registry_dms';
  ELSE
    ALTER ROLE registry_dms REPLICATION;
  END IF;
END$$;
GRANT USAGE ON SCHEMA registry TO registry_dms;
GRANT SELECT ON registry.device_versions TO registry_dms;
-- DMS's heartbeat table, which keeps the slot's position moving on a quiet registry, in a schema
-- of its own (the endpoint's heartbeatSchema), away from the registry's.
CREATE SCHEMA dms;
GRANT USAGE, CREATE ON SCHEMA dms TO registry_dms;
-- How the deploy sets a login's password: the verifier goes as a parameter (ALTER ROLE takes
-- none), and only a verifier is accepted, so a password can never be sent by mistake. It runs as
-- its caller, the master; nobody else may call it.
CREATE FUNCTION public.set_login_password(p_role TEXT, p_verifier TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
  IF p_verifier !~ '^SCRAM-SHA-256[$][0-9]+:' THEN
    RAISE EXCEPTION 'set_login_password takes a SCRAM-SHA-256 verifier, never a password' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', p_role, p_verifier);
  RETURN p_role;
END$$;
REVOKE ALL ON FUNCTION public.set_login_password(TEXT, TEXT) FROM PUBLIC;
