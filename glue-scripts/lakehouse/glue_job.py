"""What every Glue entry point shares: arguments, the session, Glue Data Quality, and the log line
and CloudWatch metrics of a run's counts. Imported only on Glue (awsglue is Glue's own library)."""

from __future__ import annotations

import json
import sys
from typing import Any, Mapping

from pyspark.sql import DataFrame

from .dq import DataQualityError, ruleset
from .pipelines import RunStats
from .spark import glue_session


def arguments(names: list[str]) -> dict[str, str]:
    from awsglue.utils import getResolvedOptions

    return getResolvedOptions(sys.argv, ["JOB_NAME", *names])


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
    """One JSON log line of the run's counts (CloudWatch Logs Insights reads it), and the counts as
    CloudWatch metrics through the embedded metric format."""
    counts = {"read": stats.read, "written": stats.written, "quarantined": stats.quarantined, **stats.details}
    print(json.dumps({"dataset": stats.dataset, **counts}))
    print(json.dumps({
        "_aws": {"CloudWatchMetrics": [{"Namespace": "TelemetryLakehouse/Glue", "Dimensions": [["Dataset"]], "Metrics": [{"Name": k, "Unit": "Count"} for k in counts]}]},
        "Dataset": stats.dataset,
        **counts,
    }))
