"""Glue entry point of Iceberg maintenance: compaction, snapshot expiry and orphan-file removal of
the processed and aggregated tables. Arguments: --tables (comma-separated lake.<db>.<table>),
--snapshot_retention_days, --day, --warehouse."""

from lakehouse import glue_job, pipelines

args = glue_job.arguments(["tables", "snapshot_retention_days", "day", "warehouse"])
spark, _, job = glue_job.start(args)
glue_job.report(pipelines.run_maintenance(spark, args["tables"].split(","), int(args["snapshot_retention_days"])))
job.commit()
