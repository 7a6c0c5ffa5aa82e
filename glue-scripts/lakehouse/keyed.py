"""A source with no logic of its own (an API-pulled dataset, say): rows checked against their
contract, one row kept per key, merged into the processed table on the key. A new source of this
kind needs a contract and a registry entry (pipeline "keyed"), and no code here.

Which row of a key wins: with `processed.versionColumn`, the greatest version, in the batch and
against the table (a re-delivered older row never replaces a newer one). Without it, the latest
batch replaces the table's row (a re-pull is the source's correction), and within one batch,
copies of a key that differ are quarantined together, since nothing says which one is right.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pyspark.sql import DataFrame, DataFrameReader, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .contracts import spark_ddl
from .quality import REASONS, contract_reasons, split_by_reasons


# DMS's Kinesis record (contract raw.envelope kind dms-kinesis): the row in `data`, what DMS did in
# `metadata`; its other metadata fields are not read.
ENVELOPE_METADATA = ("record-type", "operation", "schema-name", "table-name")


def envelope_schema(contract: Mapping[str, Any]) -> T.StructType:
    """The envelope, every field read as text: a value of the wrong JSON type reaches the contract's
    checks (typed() casts, and a value that does not cast is null, which they quarantine) instead
    of nulling the whole record."""
    data = T.StructType([T.StructField(c.get("raw", {}).get("name", c["name"]), T.StringType()) for c in contract["columns"]])
    return T.StructType([T.StructField("data", data), T.StructField("metadata", T.StructType([T.StructField(f, T.StringType()) for f in ENVELOPE_METADATA]))])


def read_raw(reader: DataFrameReader, paths: Sequence[str], contract: Mapping[str, Any]) -> DataFrame:
    """Raw records in the writer's format (Parquet, or NDJSON, GZIP or not); an envelope is read
    with its own schema, so a day of control records alone still has every column."""
    if contract["raw"]["format"] == "parquet":
        return reader.parquet(*paths)
    if "envelope" in contract["raw"]:
        return reader.schema(envelope_schema(contract)).json(list(paths))
    return reader.json(list(paths))


def empty_raw(spark, contract: Mapping[str, Any]) -> DataFrame:
    """A day without raw records, with the columns a day with some would have."""
    return spark.createDataFrame([], envelope_schema(contract) if "envelope" in contract["raw"] else spark_ddl(contract))


def unwrap(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame, int]:
    """(the rows of the envelope's data records that the dataset applies, typed; the data records
    it does not apply, typed, with their reason; the count of DMS's control records, which carry
    no row). Not applied: a record of another table, or an operation the contract does not apply
    (an update or delete of an append-only history, which its source refuses to make)."""
    envelope = contract["raw"]["envelope"]
    kind = F.col("metadata.`record-type`")
    is_control = kind.isNotNull() & (kind == "control")
    table = F.concat_ws(".", F.col("metadata.`schema-name`"), F.col("metadata.`table-name`"))
    operation = F.coalesce(F.col("metadata.operation"), F.lit("(none)"))
    applied = ", ".join(envelope["applied"])
    reason = (
        # A line that is not DMS's (no envelope, a record type DMS does not write) is not taken for a control record.
        F.when(kind.isNull() | (kind != "data"), F.concat(F.lit("not a DMS data or control record (metadata.record-type: "), F.coalesce(kind, F.lit("missing")), F.lit(")")))
        .when(table != envelope["sourceTable"], F.concat(F.lit("DMS record of "), table, F.lit(f", not of {envelope['sourceTable']}")))
        .when(~operation.isin(*envelope["applied"]), F.concat(F.lit("DMS operation "), operation, F.lit(f" is not applied (raw.envelope.applied: {applied})")))
    )
    rows = raw.where(~is_control).withColumn("_reason", reason).select("_reason", "data.*")
    kept = typed(rows.where(F.col("_reason").isNull()).drop("_reason"), contract)
    refused = rows.where(F.col("_reason").isNotNull())
    not_applied = typed(refused, contract, keep=["_reason"]).withColumn(REASONS, F.array(F.col("_reason"))).drop("_reason")
    return kept, not_applied, raw.where(is_control).count()


def typed(raw: DataFrame, contract: Mapping[str, Any], keep: tuple[str, ...] | list[str] = ()) -> DataFrame:
    """The contract's columns with their types (and the `keep` columns as they are); a column the
    batch lacks entirely (an optional field no row carried) is null, so its rules still apply (a
    required one quarantines)."""
    present = set(raw.columns)
    return raw.select(*[
        (F.col(c["name"]) if c["name"] in present else F.lit(None)).cast(c["type"]).alias(c["name"]) for c in contract["columns"]
    ], *keep)


def prepare(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame, dict[str, int]]:
    """(one valid row per key, quarantined rows with reasons, counts of the rows left out on
    purpose: `duplicates`, exact copies; `superseded`, older versions of a key in the batch; and,
    from an envelope, `control_records`, DMS's records that carry no row)."""
    key = contract["key"]
    if "envelope" in contract["raw"]:
        rows, not_applied, control = unwrap(raw, contract)
        kept, quarantined, left_out = _prepare_rows(rows, contract, key)
        return kept, not_applied.unionByName(quarantined), {**left_out, "control_records": control}
    return _prepare_rows(typed(raw, contract), contract, key)


def _prepare_rows(rows: DataFrame, contract: Mapping[str, Any], key: list[str]) -> tuple[DataFrame, DataFrame, dict[str, int]]:
    valid, quarantined = split_by_reasons(rows, contract_reasons(contract))
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
