"""What each Glue job does, I/O included, independent of where it runs: the Glue entry points
(glue-scripts/jobs/) and the tests call these with their session, paths and table names.

Every run is idempotent for its inputs: CDC sources MERGE latest-change-wins by commit time,
telematics and weather MERGE on their keys, and the KPI replaces its day's rows. Rejected
records are written under the quarantine location with their reasons, one folder per dataset and
ingest date, replaced on a rerun; every run returns the counts it logs and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import cdc, crm, legacy_sql, metrics, telematics, weather
from .dq import enforce_locally
from .iceberg import contract_columns, ensure_table, merge_on_key
from .quality import REASONS


# Evaluates a table's data-quality rules on the rows about to be written and raises when one
# breaks, before anything is committed: Glue Data Quality on Glue, Spark checks elsewhere.
Evaluator = Callable[[DataFrame, Mapping[str, Any], str], None]


@dataclass
class RunStats:
    dataset: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    details: dict[str, int] = field(default_factory=dict)


def write_quarantine(df: DataFrame, quarantine_root: str, dataset: str, ingest_date: str) -> int:
    """Rejected rows as JSON lines with their reasons; a rerun of the date replaces the folder."""
    count = df.count()
    if count:
        df.coalesce(1).write.mode("overwrite").json(f"{quarantine_root.rstrip('/')}/{dataset}/ingest_date={ingest_date}/")
    return count


def run_cdc(
    spark: SparkSession,
    dataset: str,
    contract: Mapping[str, Any],
    raw_path: str,
    table: str,
    quarantine_root: str,
    ingest_date: str,
    evaluate: Evaluator = enforce_locally,
) -> RunStats:
    """A DMS source (crm.customers, legacy_sql.shipments): the day's change files to current state."""
    raw = spark.read.parquet(raw_path).persist()  # read by the changes, the counts and the quarantine
    prepare = crm.prepare_changes if dataset == "customers" else legacy_sql.prepare_changes
    latest, quarantined = prepare(raw, contract)
    key = contract["key"]
    ensure_table(spark, table, [*contract_columns(contract), (cdc.COMMIT_TS, "timestamp")], contract.get("processed", {}).get("partitioning", []))
    # Tombstones of applied deletes: a delete removes the row, so without them a replayed older
    # insert would bring it back. A change not newer than its key's tombstone is ignored.
    tombstones = f"{table}{cdc.TOMBSTONE_SUFFIX}"
    key_types = {c["name"]: c["type"] for c in contract["columns"]}
    ensure_table(spark, tombstones, [*[(k, key_types[k]) for k in key], (cdc.COMMIT_TS, "timestamp")])
    # Materialised: the tombstones change below, and this batch must be judged against the old ones.
    live = cdc.newer_than_tombstones(latest, spark.table(tombstones), key).localCheckpoint()
    evaluate(live.where(F.col(cdc.OP) != "D"), contract, table)
    live.createOrReplaceTempView(f"{dataset}_changes")
    spark.sql(cdc.merge_statement(table, f"{dataset}_changes", key, [c["name"] for c in contract["columns"]]))
    merge_on_key(spark, tombstones, live.where(F.col(cdc.OP) == "D").select(*key, cdc.COMMIT_TS), key, f"{dataset}_deletes")
    stats = RunStats(dataset, read=raw.count(), written=live.count())
    stats.quarantined = write_quarantine(quarantined, quarantine_root, dataset, ingest_date)
    raw.unpersist()
    return stats


TELEMATICS_EXTRA = [("distance_km", "double"), ("fuel_l", "double"), ("interval_seconds", "bigint"), ("interval_status", "string"), ("load_band", "string")]


def run_telematics(
    spark: SparkSession, contract: Mapping[str, Any], raw_path: str, table: str, quarantine_root: str, ingest_date: str, evaluate: Evaluator = enforce_locally
) -> RunStats:
    """Readings MERGEd on (vehicle_id, ts); then the intervals of every vehicle-day the batch
    touched are recomputed from the table (with the vehicle's previous reading), so a late reading
    fixes its neighbours' intervals too."""
    # Parsed once: the merges, the data-quality rules and the counts all read it.
    raw = spark.read.json(raw_path).persist()
    valid, quarantined = telematics.prepare(raw, contract)
    valid = valid.persist()
    evaluate(valid, contract, table)
    ensure_table(spark, table, [*contract_columns(contract), *TELEMATICS_EXTRA], contract["processed"]["partitioning"])
    incoming = valid.select(*[c["name"] for c in contract["columns"]])
    for name, sql_type in TELEMATICS_EXTRA:
        incoming = incoming.withColumn(name, F.lit(None).cast(sql_type))
    merge_on_key(spark, table, incoming, contract["key"], "telematics_batch")

    touched = valid.select("vehicle_id", F.to_date("ts").alias("day")).distinct()
    current = spark.table(table)
    days = current.join(touched, ["vehicle_id"]).where(F.to_date("ts") == F.col("day")).drop("day")
    # the last reading before each touched day, for the day's first interval
    before = current.join(touched, ["vehicle_id"]).where(F.to_date("ts") < F.col("day"))
    latest_before = before.withColumn("_rn", F.row_number().over(Window.partitionBy("vehicle_id", "day").orderBy(F.col("ts").desc()))).where("_rn = 1").drop("_rn", "day")
    # A day's last reading is also the next touched day's predecessor: keep each reading once.
    readings = days.unionByName(latest_before).drop(*[n for n, _ in TELEMATICS_EXTRA]).dropDuplicates(["vehicle_id", "ts"])
    recomputed = telematics.with_intervals(readings)
    recomputed = recomputed.join(days.select("vehicle_id", "ts").distinct(), ["vehicle_id", "ts"]).localCheckpoint()  # only the touched days' rows
    merge_on_key(spark, table, recomputed, contract["key"], "telematics_intervals")

    stats = RunStats("telematics", read=raw.count(), written=valid.count())
    stats.details = {row["interval_status"]: row["count"] for row in recomputed.groupBy("interval_status").count().collect()}
    stats.quarantined = write_quarantine(quarantined, quarantine_root, "telematics", ingest_date)
    raw.unpersist()
    valid.unpersist()
    return stats


def run_weather(
    spark: SparkSession,
    contract: Mapping[str, Any],
    raw_path: str,
    table: str,
    quarantine_root: str,
    day: str,
    cities: Sequence[str],
    evaluate: Evaluator = enforce_locally,
) -> RunStats:
    """The day's hourly series per city (missing hours flagged), MERGEd on (city, observation_hour)."""
    raw = spark.read.json(raw_path)
    valid, quarantined = weather.prepare(raw, contract)
    series = weather.hourly_series(spark, valid.where(F.to_date("observation_hour") == F.lit(day)), day, cities)
    evaluate(series.where(~F.col("is_missing")), contract, table)  # flagged gaps are rows by design
    ensure_table(spark, table, [*contract_columns(contract), ("is_missing", "boolean"), ("temp_range", "string")], contract["processed"]["partitioning"])
    merge_on_key(spark, table, series.select(*[c["name"] for c in contract["columns"]], "is_missing", "temp_range"), contract["key"], "weather_series")
    stats = RunStats("weather", read=raw.count(), written=series.count())
    stats.details = {"missing_hours": series.where("is_missing").count()}
    stats.quarantined = write_quarantine(quarantined, quarantine_root, "weather", ingest_date=day)
    return stats


METRICS_COLUMNS = [
    ("metric_date", "date"),
    ("city", "string"),
    ("temp_range", "string"),
    ("weather_condition", "string"),
    ("customer_segment", "string"),
    ("intervals", "bigint"),
    ("vehicles", "bigint"),
    ("distance_km", "double"),
    ("fuel_l", "double"),
    ("fuel_l_per_100km", "double"),
]


def run_aggregation(spark: SparkSession, tables: Mapping[str, str], metrics_table: str, day: str) -> RunStats:
    """telemetry_metrics of one day from the processed tables. The day's rows are replaced in one
    atomic commit (overwrite by filter), even when the new result has none."""
    intervals = spark.table(tables["telematics"]).where(F.to_date("ts") == F.lit(day))
    weather_day = spark.table(tables["weather"]).where(F.to_date("observation_hour") == F.lit(day))
    attributed = metrics.attributed_intervals(intervals, spark.table(tables["shipments"]), weather_day, spark.table(tables["customers"]))
    result = metrics.telemetry_metrics(attributed)
    ensure_table(spark, metrics_table, METRICS_COLUMNS, [{"column": "metric_date", "transform": "identity"}])
    result.select(*[c for c, _ in METRICS_COLUMNS]).writeTo(metrics_table).overwrite(F.col("metric_date") == F.lit(day).cast("date"))
    stats = RunStats("telemetry_metrics", read=intervals.count(), written=result.count())
    stats.details = metrics.outcome_counts(attributed)
    return stats


def run_maintenance(spark: SparkSession, tables: Sequence[str], snapshot_retention_days: int, now: datetime | None = None) -> RunStats:
    """Iceberg upkeep of each table: small files compacted (rewrite_data_files), snapshots older
    than the retention expired (keeping at least one), and files no snapshot references removed
    once they are older than three days (so no running writer's files are taken)."""
    now = now or datetime.now(timezone.utc)
    expire_before = (now - timedelta(days=snapshot_retention_days)).strftime("%Y-%m-%d %H:%M:%S.%f")
    orphans_before = (now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.%f")
    stats = RunStats("maintenance")
    for table in tables:
        catalog, qualified = table.split(".", 1)
        rewritten = spark.sql(f"CALL {catalog}.system.rewrite_data_files(table => '{qualified}')").collect()[0]
        spark.sql(f"CALL {catalog}.system.expire_snapshots(table => '{qualified}', older_than => TIMESTAMP '{expire_before}', retain_last => 1)")
        spark.sql(f"CALL {catalog}.system.remove_orphan_files(table => '{qualified}', older_than => TIMESTAMP '{orphans_before}')")
        stats.details[f"{qualified}.files_rewritten"] = int(rewritten["rewritten_data_files_count"])
    stats.read = stats.written = len(tables)
    return stats
