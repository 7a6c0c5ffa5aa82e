"""Glue entry point of the KPI: one day's telemetry_metrics from the processed tables.
Arguments: --day, --processed_database, --metrics_table, --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.spark import CATALOG

args = glue_job.arguments(["day", "processed_database", "metrics_table", "warehouse"])
spark, _, job = glue_job.start(args)
tables = {name: f"{CATALOG}.{args['processed_database']}.{name}" for name in ("telematics", "weather", "shipments", "customers")}
glue_job.report(pipelines.run_aggregation(spark, tables, args["metrics_table"], args["day"]))
job.commit()
