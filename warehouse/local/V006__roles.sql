-- Local stand-in for V006__roles.redshift.sql: the same roles and grants in PostgreSQL's words.
-- Roles belong to the whole PostgreSQL cluster, where the tests create one database per case, so
-- the role is created once and granted again in each database. The staging schemas are plain
-- schemas here: the loader also needs SELECT on their tables (on Redshift, USAGE on an external
-- schema is what lets a user read its tables).
DO $$BEGIN CREATE ROLE warehouse_loader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
GRANT USAGE ON SCHEMA core TO warehouse_loader;
GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA core TO warehouse_loader;
GRANT USAGE ON SCHEMA staging_processed TO warehouse_loader;
GRANT USAGE ON SCHEMA staging_aggregated TO warehouse_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA staging_processed TO warehouse_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA staging_aggregated TO warehouse_loader;
DO $$BEGIN CREATE ROLE warehouse_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
GRANT USAGE ON SCHEMA core TO warehouse_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA core TO warehouse_reader;
GRANT USAGE ON SCHEMA mart TO warehouse_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO warehouse_reader;
