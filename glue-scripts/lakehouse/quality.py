"""Contract rules as DataFrame expressions: every record that breaks one goes to quarantine with
all its reasons, never silently dropped."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

REASONS = "quarantine_reasons"


def contract_reasons(contract: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[Column]:
    """One expression per rule of the contract's columns: the reason text when broken, else null."""
    checks: list[Column] = []
    for column in contract["columns"]:
        name = column["name"]
        if name in skip:
            continue
        value = F.col(name)
        if column.get("required"):
            checks.append(F.when(value.isNull(), F.lit(f"{name}: required")))
        if "min" in column:
            checks.append(F.when(value < column["min"], F.concat(F.lit(f"{name}: "), value.cast("string"), F.lit(f" is below the minimum {column['min']}"))))
        if "max" in column:
            checks.append(F.when(value > column["max"], F.concat(F.lit(f"{name}: "), value.cast("string"), F.lit(f" is above the maximum {column['max']}"))))
        if "allowed" in column:
            checks.append(F.when(~value.isin(*column["allowed"]), F.concat(F.lit(f"{name}: '"), value, F.lit("' is not allowed"))))
    return checks


def split_by_reasons(df: DataFrame, reasons: list[Column]) -> tuple[DataFrame, DataFrame]:
    """(valid rows, quarantined rows with a `quarantine_reasons` array of every broken rule).

    A row is valid when every reason is null, which `coalesce` tests in Spark's generated code. The
    array of reasons is built for the quarantined rows alone: `array_compact` has no generated code,
    so every rule beneath it ran interpreted, row by row, for every row of the batch (issue 17,
    docs/decisions.md 151)."""
    if not reasons:
        return df, df.where(F.lit(False)).withColumn(REASONS, F.array().cast("array<string>"))
    broken = F.coalesce(*reasons).isNotNull()
    return df.where(~broken), df.where(broken).withColumn(REASONS, F.array_compact(F.array(*reasons)))
