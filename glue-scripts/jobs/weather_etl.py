"""Glue entry point of the weather: a day's hourly series per city to the processed table.
Arguments: --raw_path, --table, --quarantine_root, --day, --cities (comma-separated), --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.contracts import contract_of, load_contracts

args = glue_job.arguments(["raw_path", "table", "quarantine_root", "day", "cities", "warehouse"])
spark, glue_context, job = glue_job.start(args)
stats = pipelines.run_weather(
    spark, contract_of(load_contracts(), "weather"), args["raw_path"], args["table"], args["quarantine_root"], args["day"],
    args["cities"].split(","), glue_job.glue_data_quality(glue_context),
)
glue_job.report(stats)
job.commit()
