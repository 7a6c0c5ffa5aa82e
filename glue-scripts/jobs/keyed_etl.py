"""Glue entry point of a source with no logic of its own (pipeline "keyed" in
lib/registry/jobs.json): the day's raw rows to the processed Iceberg table, merged on the
contract's key. Arguments: --dataset, --raw_path, --table, --quarantine_root, --day, --warehouse."""

from lakehouse import glue_job, pipelines
from lakehouse.contracts import contract_of, load_contracts

args = glue_job.arguments(["dataset", "raw_path", "table", "quarantine_root", "day", "warehouse"])
spark, glue_context, job = glue_job.start(args)
stats = pipelines.run_keyed(
    spark, args["dataset"], contract_of(load_contracts(), args["dataset"]), args["raw_path"], args["table"],
    args["quarantine_root"], args["day"], glue_job.glue_data_quality(glue_context),
)
glue_job.report(stats)
job.commit()
