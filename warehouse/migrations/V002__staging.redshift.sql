-- The lake, read in place through the Glue catalog (Redshift Spectrum, Iceberg tables): one
-- external schema per Glue database. {{processed_database}}, {{aggregated_database}} and
-- {{namespace_role_arn}} are the stack's names, filled in at deploy. Locally, local/staging.sql
-- creates tables of the same names and shapes instead.
CREATE EXTERNAL SCHEMA IF NOT EXISTS staging_processed
  FROM DATA CATALOG DATABASE '{{processed_database}}' IAM_ROLE '{{namespace_role_arn}}';
CREATE EXTERNAL SCHEMA IF NOT EXISTS staging_aggregated
  FROM DATA CATALOG DATABASE '{{aggregated_database}}' IAM_ROLE '{{namespace_role_arn}}';
