"""Glue entry point of the weather: a day's hourly series per city to the processed table.
Arguments: --raw_path (with {day}), --table, --quarantine_root, --day, --cities (comma-separated),
--backfill_from ('none' for the daily run; a date makes the run a reload of every day's folder
from backfill_from to day, in one pass), --warehouse."""

from lakehouse import glue_job, kpi_dates, pipelines
from lakehouse.contracts import contract_of, load_contracts

args = glue_job.arguments(["raw_path", "table", "quarantine_root", "day", "cities", "backfill_from", "warehouse"])
first_day = None if args["backfill_from"] == "none" else args["backfill_from"]
raw_path = args["raw_path"]
if first_day:
    raw_path = glue_job.day_folders("raw_path", [d.isoformat() for d in kpi_dates.date_range(first_day, args["day"])])
spark, glue_context, job = glue_job.start(args)
stats = pipelines.run_weather(
    spark, contract_of(load_contracts(), "weather"), raw_path, args["table"], args["quarantine_root"], args["day"],
    args["cities"].split(","), glue_job.glue_data_quality(glue_context), first_day=first_day,
)
glue_job.report(stats)
job.commit()
