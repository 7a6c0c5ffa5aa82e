"""Glue entry point of the KPI: telemetry_metrics of every date whose inputs changed, from the
processed tables (lakehouse.pipelines.run_aggregation). Arguments: --day, --processed_database,
--metrics_table, --lateness_horizon_days, --backfill_from ('none' for the daily run; a date makes
the run a backfill of backfill_from .. day), --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.spark import CATALOG

args = glue_job.arguments(["day", "processed_database", "metrics_table", "lateness_horizon_days", "backfill_from", "warehouse"])
spark, _, job = glue_job.start(args)
glue_job.report(pipelines.run_aggregation(
    spark, pipelines.kpi_input_tables(f"{CATALOG}.{args['processed_database']}"), args["metrics_table"], args["day"],
    horizon_days=int(args["lateness_horizon_days"]), backfill_from=None if args["backfill_from"] == "none" else args["backfill_from"],
))
job.commit()
