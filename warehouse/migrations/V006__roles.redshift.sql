-- Database roles, so no process of the platform works as the admin. The daily load (the state
-- machine's IAM role, which the Data API signs in as IAMR:<role name>) gets warehouse_loader
-- through its RedshiftDbRoles tag; analysts and BI tools get warehouse_reader the same way.
-- The loader replaces rows of the star and reads the lake; it cannot change the schema or the
-- record of migrations. Redshift names a role in GRANT with the word ROLE, PostgreSQL does not:
-- local/V006__roles.sql is the same grants in PostgreSQL's words.
CREATE ROLE warehouse_loader;
GRANT USAGE ON SCHEMA core TO ROLE warehouse_loader;
GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA core TO ROLE warehouse_loader;
GRANT USAGE ON SCHEMA staging_processed TO ROLE warehouse_loader;
GRANT USAGE ON SCHEMA staging_aggregated TO ROLE warehouse_loader;
CREATE ROLE warehouse_reader;
GRANT USAGE ON SCHEMA core TO ROLE warehouse_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA core TO ROLE warehouse_reader;
GRANT USAGE ON SCHEMA mart TO ROLE warehouse_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA mart TO ROLE warehouse_reader;
