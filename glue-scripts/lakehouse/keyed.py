"""A source with no logic of its own (an API-pulled dataset, say): rows checked against their
contract, one row kept per key, merged into the processed table on the key. A new source of this
kind needs a contract and a registry entry (pipeline "keyed"), and no code here.

Which row of a key wins: with `processed.versionColumn`, the greatest version, in the batch and
against the table (a re-delivered older row never replaces a newer one). Without it, the latest
batch replaces the table's row (a re-pull is the source's correction), and within one batch,
copies of a key that differ are quarantined together, since nothing says which one is right.
"""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .quality import REASONS, contract_reasons, split_by_reasons


def read_raw(spark, raw_path: str, contract: Mapping[str, Any]) -> DataFrame:
    """The day's raw rows in the writer's format (Parquet, or NDJSON, GZIP or not)."""
    reader = spark.read.parquet if contract["raw"]["format"] == "parquet" else spark.read.json
    return reader(raw_path)


def typed(raw: DataFrame, contract: Mapping[str, Any]) -> DataFrame:
    """The contract's columns with their types; a column the batch lacks entirely (an optional
    field no row carried) is null, so its rules still apply (a required one quarantines)."""
    present = set(raw.columns)
    return raw.select(*[
        (F.col(c["name"]) if c["name"] in present else F.lit(None)).cast(c["type"]).alias(c["name"]) for c in contract["columns"]
    ])


def prepare(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame, dict[str, int]]:
    """(one valid row per key, quarantined rows with reasons, counts of the rows left out on
    purpose: `duplicates`, exact copies; `superseded`, older versions of a key in the batch)."""
    key = contract["key"]
    valid, quarantined = split_by_reasons(typed(raw, contract), contract_reasons(contract))
    distinct = valid.dropDuplicates()
    copies = valid.count() - distinct.count()
    version = contract.get("processed", {}).get("versionColumn")
    if version:
        # The greatest version of a key wins; two different rows with the same version conflict.
        by_key = Window.partitionBy(*key)
        top = distinct.withColumn("_top", F.max(version).over(by_key)).where(F.col(version) == F.col("_top")).drop("_top")
        kept, conflicting = conflicts(top, key, f"another row of the same key has the same {version}")
        return kept, quarantined.unionByName(conflicting), {"duplicates": copies, "superseded": distinct.count() - top.count()}
    kept, conflicting = conflicts(distinct, key, "another row of the same key in this batch differs")
    return kept, quarantined.unionByName(conflicting), {"duplicates": copies, "superseded": 0}


def conflicts(rows: DataFrame, key: list[str], reason: str) -> tuple[DataFrame, DataFrame]:
    """Keys with one row stay; keys with several different rows go to quarantine, every row of them."""
    counted = rows.withColumn("_rows", F.count(F.lit(1)).over(Window.partitionBy(*key)))
    kept = counted.where("_rows = 1").drop("_rows")
    conflicting = counted.where("_rows > 1").drop("_rows").withColumn(REASONS, F.array(F.lit(f"{', '.join(key)}: {reason}")))
    return kept, conflicting
