"""Change data capture from DMS: reduce a batch of changes to the latest change per key."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

OP = "Op"
# Suffix of the table that keeps (key, commit_ts) of every applied delete.
TOMBSTONE_SUFFIX = "__deletes"
COMMIT_TS = "commit_ts"
# Suffix of the table that keeps every version of a source whose KPI dimension is taken as it
# was at the interval's time (customers: the segment), keyed on (key, commit_ts).
HISTORY_SUFFIX = "__history"
# Full-load rows of some DMS versions carry an empty Op: they are inserts.
KNOWN_OPS = ("I", "U", "D")


def normalise_op(df: DataFrame) -> DataFrame:
    return df.withColumn(OP, F.when(F.col(OP).isNull() | (F.trim(F.col(OP)) == ""), F.lit("I")).otherwise(F.upper(F.trim(F.col(OP)))))


def latest_change_per_key(df: DataFrame, key: list[str]) -> DataFrame:
    """The last change of each key in the batch, by commit time. At equal commit times a delete
    wins over an update, an update over an insert (DMS writes a row's I and U of one commit
    in that order)."""
    rank = F.when(F.col(OP) == "D", 3).when(F.col(OP) == "U", 2).otherwise(1)
    order = Window.partitionBy(*key).orderBy(F.col(COMMIT_TS).desc_nulls_last(), rank.desc())
    return df.withColumn("_rn", F.row_number().over(order)).where(F.col("_rn") == 1).drop("_rn")


def merge_statement(target: str, source_view: str, key: list[str], columns: list[str]) -> str:
    """MERGE of a batch of latest changes into the current-state table.

    The target keeps each row's `commit_ts`, so a change older than what the table already
    holds (a late duplicate, or a batch replayed) changes nothing: latest change per key wins,
    whatever order batches are applied in. Deletes remove the row.
    """
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    assignments = ", ".join(f"t.`{c}` = s.`{c}`" for c in columns + [COMMIT_TS])
    insert_columns = ", ".join(f"`{c}`" for c in columns + [COMMIT_TS])
    insert_values = ", ".join(f"s.`{c}`" for c in columns + [COMMIT_TS])
    return (
        f"MERGE INTO {target} t USING {source_view} s ON {on} "
        f"WHEN MATCHED AND s.`{OP}` = 'D' AND s.`{COMMIT_TS}` >= t.`{COMMIT_TS}` THEN DELETE "
        f"WHEN MATCHED AND s.`{OP}` <> 'D' AND s.`{COMMIT_TS}` >= t.`{COMMIT_TS}` THEN UPDATE SET {assignments} "
        f"WHEN NOT MATCHED AND s.`{OP}` <> 'D' THEN INSERT ({insert_columns}) VALUES ({insert_values})"
    )


def newer_than_tombstones(changes: DataFrame, tombstones: DataFrame, key: list[str]) -> DataFrame:
    """The changes newer than the last applied delete of their key (all of them for a key never deleted)."""
    deleted = tombstones.select(*key, F.col(COMMIT_TS).alias("_deleted_at"))
    joined = changes.join(deleted, key, "left")
    return joined.where(F.col("_deleted_at").isNull() | (F.col(COMMIT_TS) > F.col("_deleted_at"))).drop("_deleted_at")
