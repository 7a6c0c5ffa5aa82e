"""What every Glue entry point shares: arguments, the session, Glue Data Quality, and the log line
and CloudWatch metrics of a run's counts. The awsglue imports happen inside the functions that
run on Glue only (awsglue is Glue's own library)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

from pyspark.sql import DataFrame

from .dq import DataQualityError, ruleset
from .pipelines import RunStats
from .spark import glue_session


def arguments(names: list[str]) -> dict[str, str]:
    """The job's arguments; a day argument 'yesterday' (the scheduled run's) becomes the UTC date,
    and {day} in a path argument becomes that date."""
    from awsglue.utils import getResolvedOptions

    args = getResolvedOptions(sys.argv, ["JOB_NAME", *names])
    return resolve_days(args, datetime.now(timezone.utc).date())


def resolve_days(args: Mapping[str, str], today: date) -> dict[str, str]:
    """Every daily job takes --day (lib/registry: DAY_ARGUMENT): 'yesterday' becomes the date."""
    resolved = dict(args)
    if resolved.get("day") == "yesterday":
        resolved["day"] = (today - timedelta(days=1)).isoformat()
    day = resolved.get("day")
    if day:
        resolved = {k: v.replace("{day}", day) if isinstance(v, str) else v for k, v in resolved.items()}
    return resolved


def for_days(template: str, days: list[str]) -> list[str]:
    """A {day} path argument (lib/registry: the raw zone's day folders) for each day of a range run."""
    if "{day}" not in template:
        raise ValueError(f"a range run needs a path argument with {{day}}: {template}")
    return [template.replace("{day}", day) for day in days]


def day_folders(name: str, days: list[str]) -> list[str]:
    """The argument `name` as given (before `arguments` puts the run's day in it), for each of `days`."""
    from awsglue.utils import getResolvedOptions

    return for_days(getResolvedOptions(sys.argv, [name])[name], days)


def start(args: Mapping[str, str]):
    """(Spark session, Glue context, Glue job) for this run, Iceberg through the Glue catalog."""
    from awsglue.context import GlueContext
    from awsglue.job import Job

    spark = glue_session(args["JOB_NAME"], args["warehouse"])
    glue_context = GlueContext(spark.sparkContext)
    job = Job(glue_context)
    job.init(args["JOB_NAME"], dict(args))
    return spark, glue_context, job


def glue_data_quality(glue_context):
    """An evaluator that runs the contract's DQDL ruleset with Glue Data Quality, publishing results
    and CloudWatch metrics, and fails the run on any failed rule."""
    from awsglue.dynamicframe import DynamicFrame
    from awsgluedq.transforms import EvaluateDataQuality

    def evaluate(df: DataFrame, contract: Mapping[str, Any], table: str) -> None:
        # An empty batch (a day a rarely changing source sent nothing) writes nothing; its rules
        # hold vacuously, and Glue Data Quality's answer on zero rows is not one to depend on.
        if df.isEmpty():
            return
        results = EvaluateDataQuality.apply(
            frame=DynamicFrame.fromDF(df, glue_context, table),
            ruleset=ruleset(contract),
            publishing_options={
                "dataQualityEvaluationContext": table.replace(".", "_"),
                "enableDataQualityCloudWatchMetrics": True,
                "enableDataQualityResultsPublishing": True,
            },
        ).toDF()
        failed = [(row["Rule"], -1) for row in results.where("Outcome = 'Failed'").collect()]
        if failed:
            raise DataQualityError(table, failed)

    return evaluate


def report(stats: RunStats) -> None:
    """One JSON log line of the run's counts and lists (CloudWatch Logs Insights reads it: the dates
    a KPI run recomputed, those beyond the horizon), and the counts as CloudWatch metrics through
    the embedded metric format."""
    counts = {"read": stats.read, "written": stats.written, "quarantined": stats.quarantined, **stats.details}
    print(json.dumps({"dataset": stats.dataset, **counts, **stats.lists}))
    print(json.dumps({
        "_aws": {"CloudWatchMetrics": [{"Namespace": "TelemetryLakehouse/Glue", "Dimensions": [["Dataset"]], "Metrics": [{"Name": k, "Unit": "Count"} for k in counts]}]},
        "Dataset": stats.dataset,
        **counts,
    }))
