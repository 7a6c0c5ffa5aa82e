"""The KPI catalogue (queries/*.sql) on Spark: each file's `:name` markers bound as Spark's named
parameters. The catalogue's own reader is lambda/shared/kpi/catalogue.ts (titles, parameter types,
validation, Athena's positional form); here every marker only needs its value, and an optional one
that is absent binds as '' as it does for Athena."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql import DataFrame, SparkSession

MARKER = re.compile(r"(?<![:\w]):([a-z][a-z0-9_]*)\b")


def run_kpi(spark: SparkSession, sql: str, **values: Any) -> DataFrame:
    """The KPI's SQL with its markers bound: `from`, `to` and any filter given; the others ''."""
    return spark.sql(sql, args={name: values.get(name, "") for name in set(MARKER.findall(sql))})
