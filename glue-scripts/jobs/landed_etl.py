"""Glue entry point of a dataset a streaming job lands in the processed zone (pipeline "landed" in
lib/registry/jobs.json; its contract's `landing`): the event days within the lateness horizon of
the landing, merged into the processed Iceberg table on the contract's key. Arguments: --dataset,
--landing_path, --table, --quarantine_root, --lateness_horizon_days, --day, --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.contracts import contract_of, load_contracts

args = glue_job.arguments(["dataset", "landing_path", "table", "quarantine_root", "lateness_horizon_days", "day", "warehouse"])
spark, glue_context, job = glue_job.start(args)
stats = pipelines.run_landed(
    spark, args["dataset"], contract_of(load_contracts(), args["dataset"]), args["landing_path"], args["table"],
    args["quarantine_root"], args["day"], int(args["lateness_horizon_days"]), glue_job.glue_data_quality(glue_context),
)
glue_job.report(stats)
job.commit()
