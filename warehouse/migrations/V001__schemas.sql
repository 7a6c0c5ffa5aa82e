-- The warehouse's own schemas: the star (core) and the views the briefs ask for (mart), and the
-- record of the load. The staging schemas (the lake through the Glue catalog) are Redshift-only:
-- V002__staging.redshift.sql.
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
