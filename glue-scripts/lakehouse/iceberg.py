"""Iceberg tables of the processed and aggregated zones, created from the contracts."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pyspark.sql import DataFrame, SparkSession

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


def merge_on_key(spark: SparkSession, table: str, source: DataFrame, key: list[str], view: str, replace_when: str | None = "true") -> None:
    """Upsert: rows of `source` replace the rows with the same key (when `replace_when` holds, an SQL
    condition on t and s; never when None), or are inserted."""
    source.createOrReplaceTempView(view)
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    matched = f"WHEN MATCHED AND ({replace_when}) THEN UPDATE SET * " if replace_when else ""
    spark.sql(f"MERGE INTO {table} t USING {view} s ON {on} {matched}WHEN NOT MATCHED THEN INSERT *")
