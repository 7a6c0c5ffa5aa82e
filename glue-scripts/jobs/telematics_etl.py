"""Glue entry point of vehicle telematics: the ingest date's raw telemetry to the processed table.
Arguments: --raw_path, --table, --quarantine_root, --day (the ingest date), --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.contracts import contract_of, load_contracts

args = glue_job.arguments(["raw_path", "table", "quarantine_root", "day", "warehouse"])
spark, glue_context, job = glue_job.start(args)
stats = pipelines.run_telematics(
    spark, contract_of(load_contracts(), "telematics"), args["raw_path"], args["table"], args["quarantine_root"], args["day"],
    glue_job.glue_data_quality(glue_context),
)
glue_job.report(stats)
job.commit()
