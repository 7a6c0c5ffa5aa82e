"""Iceberg tables of the processed and aggregated zones, created from the contracts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from pyspark.sql import DataFrame, Row, SparkSession

TRANSFORMS = {"identity": "{c}", "day": "days({c})", "hour": "hours({c})", "month": "months({c})"}


def ensure_table(spark: SparkSession, table: str, columns: Iterable[tuple[str, str]], partitioning: Iterable[Mapping[str, str]] = ()) -> None:
    """CREATE TABLE IF NOT EXISTS, Iceberg format v2 (row-level deletes for MERGE), merge-on-read."""
    namespace = table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    column_list = ", ".join(f"`{name}` {sql_type}" for name, sql_type in columns)
    partitions = [TRANSFORMS[p["transform"]].format(c=f"`{p['column']}`") for p in partitioning]
    partitioned_by = f" PARTITIONED BY ({', '.join(partitions)})" if partitions else ""
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {table} ({column_list}) USING iceberg{partitioned_by} "
        "TBLPROPERTIES ('format-version' = '2', 'write.delete.mode' = 'merge-on-read', "
        "'write.update.mode' = 'merge-on-read', 'write.merge.mode' = 'merge-on-read')"
    )


def contract_columns(contract: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["type"]) for c in contract["columns"]]


def on_days(column: str, days: Iterable[date]) -> str:
    """SQL: the timestamp `column` falls on one of `days` (the sessions run in UTC, as Iceberg's
    day partitions do), written as ranges of the column itself, consecutive days as one range.

    Iceberg prunes day partitions and files by a range of the column; it cannot by
    `to_date(column)`, a cast Spark does not push down, so such a filter read every file of the
    table and dropped the other days' rows in Spark: each daily run's read grew with the table's
    history (issue 17, docs/decisions.md 158)."""
    ordered = sorted(set(days))
    if not ordered:
        return "false"
    runs: list[list[date]] = [[ordered[0], ordered[0]]]
    for day in ordered[1:]:
        if day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return " OR ".join(f"({column} >= TIMESTAMP '{first} 00:00:00' AND {column} < TIMESTAMP '{last + timedelta(days=1)} 00:00:00')" for first, last in runs)


# Snapshots that rewrite files without changing rows: compaction (rewrite_data_files), the
# rewrite of position deletes.
SAME_ROWS_OPERATION = "replace"


def last_change(spark: SparkSession, table: str) -> Row | None:
    """The snapshot that last changed the table's rows (snapshot_id, operation, summary): the
    current one, or, when compactions followed it, its nearest ancestor that is not one. None when
    the table has no snapshot, or when that ancestor has been expired."""
    current = spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").collect()
    if not current:
        return None
    snapshots = {r["snapshot_id"]: r for r in spark.sql(f"SELECT snapshot_id, parent_id, operation, summary FROM {table}.snapshots").collect()}
    snapshot = snapshots.get(current[0]["snapshot_id"])
    while snapshot is not None and snapshot["operation"] == SAME_ROWS_OPERATION:
        snapshot = snapshots.get(snapshot["parent_id"])
    return snapshot


def merge_on_key(
    spark: SparkSession, table: str, source: DataFrame, key: list[str], view: str, replace_when: str | None = "true", target_within: str | None = None
) -> None:
    """Upsert: rows of `source` replace the rows with the same key (when `replace_when` holds, an SQL
    condition on t and s; never when None), or are inserted. `target_within`: an SQL condition on t
    that every row a source row can match meets (the source's days, when the key holds the
    timestamp): the MERGE then reads only the target's files that meet it, not the whole table."""
    source.createOrReplaceTempView(view)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    if target_within:
        on = f"{on} AND ({target_within})"
    matched = f"WHEN MATCHED AND ({replace_when}) THEN UPDATE SET * " if replace_when else ""
    spark.sql(f"MERGE INTO {table} t USING {view} s ON {on} {matched}WHEN NOT MATCHED THEN INSERT *")
