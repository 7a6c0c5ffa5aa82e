"""What each Glue job does, I/O included, independent of where it runs: the Glue entry points
(glue-scripts/jobs/) and the tests call these with their session, paths and table names.

Every run is idempotent for its inputs: CDC sources MERGE latest-change-wins by commit time,
telematics and weather MERGE on their keys, and the KPI replaces the rows of the dates it
recomputes. Each source run records the metric dates its batch changed (lakehouse.kpi_dates), and
the aggregation recomputes every one of them within the lateness horizon, so late and corrected
data reach the KPI. Rejected records are written under the quarantine location with their
reasons, one folder per dataset and ingest date, replaced on a rerun; every run returns the counts
it logs and publishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from . import cdc, crm, keyed, kpi_dates, legacy_sql, metrics, raw_objects, telematics, vehicle_days, weather
from .contracts import raw_json_ddl, spark_ddl
from .dq import enforce_locally
from .iceberg import contract_columns, ensure_table, merge_on_key, on_days
from .quality import REASONS, contract_reasons, split_by_reasons


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
    # Lists for the log line only (not metrics): e.g. the dates recomputed, the dates beyond the horizon.
    lists: dict[str, list[str]] = field(default_factory=dict)


def write_quarantine(df: DataFrame, quarantine_root: str, dataset: str, ingest_date: str, count: int | None = None) -> int:
    """Rejected rows as JSON lines with their reasons; a rerun of the date replaces the folder, and
    a rerun that rejects nothing removes it (the rows it listed were read again and taken).
    `count`: the rows of `df`, when the caller has them from its own counts (not counted again)."""
    count = df.count() if count is None else count
    folder = f"{quarantine_root.rstrip('/')}/{dataset}/ingest_date={ingest_date}/"
    if count:
        df.coalesce(1).write.mode("overwrite").json(folder)
    else:
        raw_objects.remove_folder(df.sparkSession, folder)
    return count


def read_raw_batch(
    spark: SparkSession, raw_path: str | Sequence[str], read: Callable[..., DataFrame], quarantine_root: str, dataset: str, ingest_date: str
) -> tuple[DataFrame, int, int]:
    """The batch's raw objects read and materialised, each object that cannot be read left out and
    listed under the quarantine with its reason (lakehouse.raw_objects); returns the batch, its rows
    (counted once, as it was cached) and how many objects were left out. `read(*paths)` reads
    objects in the writer's format; partitions in folder names below `raw_path` (ingest_hour=HH) are
    read as the folder read gives them. `raw_path`: a day's folder, or several folders of one
    parent (a range run: one per day), read in one pass; a folder that does not exist fails the run,
    as a daily run's does."""
    paths = [raw_path] if isinstance(raw_path, str) else list(raw_path)
    parents = {p.rstrip("/").rsplit("/", 1)[0] for p in paths}
    if len(paths) > 1 and len(parents) != 1:
        raise ValueError(f"the folders of one batch must share their parent: {paths}")
    # Several folders are read under their parent: their own names (ingest_date=...) become a
    # column, which the contract's select leaves out.
    base = paths[0] if len(paths) == 1 else parents.pop()
    reader = lambda objects_or_folders: read(spark.read.option("basePath", base), *objects_or_folders)  # noqa: E731
    existing = _existing(spark, paths)
    if missing := [p for p in paths if p not in existing]:
        reader(missing)  # Spark raises for a folder that does not exist, in its words
    # The folders read as Spark lists them. The objects are listed one by one only when the read
    # fails, to find the unreadable ones: listing them first took 1.7-2.2 s of a 2M-row run's
    # 7-10 s read (a JVM call per object; issue 17).
    try:
        raw, rows = raw_objects.materialised(reader(paths))
        unreadable = []
    except Exception as error:  # noqa: BLE001 - which objects failed is found by reading them apart; a failure none explains is raised there
        objects = sorted(o for p in paths for o in raw_objects.list_objects(spark, p))
        if not objects:
            raise  # no object to blame (a folder of Parquet with no file has no schema to read)
        raw, rows, unreadable = raw_objects.read_objects(objects, reader, failed=raw_objects.reason_of(error))
    return raw, rows, raw_objects.write_unreadable(spark, unreadable, quarantine_root, dataset, ingest_date)


@dataclass(frozen=True)
class CdcSource:
    """How a DMS source's batch is read, and what it changes in the KPI."""

    # (raw changes, contract) -> (valid changes, quarantined changes with reasons): every raw row in
    # exactly one of the two, which the run's quarantine count relies on.
    prepare: Callable[[DataFrame, Mapping[str, Any]], tuple[DataFrame, DataFrame]]
    # (current rows of the batch's keys before it, its valid changes, their versions before it) -> kpi_dates ledger entries
    kpi_changes: Callable[[DataFrame, DataFrame, DataFrame | None], DataFrame]
    # Every version kept in <table>__history: the KPI takes this source's dimension as it was at the interval's time.
    keeps_history: bool


CDC_SOURCES: Mapping[str, CdcSource] = {
    "customers": CdcSource(crm.prepare_changes, crm.kpi_changes, keeps_history=True),
    "shipments": CdcSource(legacy_sql.prepare_changes, legacy_sql.kpi_changes, keeps_history=False),
}


def ensure_cdc_tables(spark: SparkSession, dataset: str, contract: Mapping[str, Any], table: str) -> None:
    """A DMS source's tables, from its contract: current state (with each row's commit_ts), the
    tombstones of applied deletes and, where kept, every version. A table that does not exist yet
    (a source whose first files come later) is created here with its full schema, so readers such
    as the KPI find it empty rather than missing or shaped otherwise."""
    key = contract["key"]
    key_types = {c["name"]: c["type"] for c in contract["columns"]}
    ensure_table(spark, table, [*contract_columns(contract), (cdc.COMMIT_TS, "timestamp")], contract.get("processed", {}).get("partitioning", []))
    ensure_table(spark, f"{table}{cdc.TOMBSTONE_SUFFIX}", [*[(k, key_types[k]) for k in key], (cdc.COMMIT_TS, "timestamp")])
    if CDC_SOURCES[dataset].keeps_history:
        ensure_table(spark, f"{table}{cdc.HISTORY_SUFFIX}", [*contract_columns(contract), (cdc.OP, "string"), (cdc.COMMIT_TS, "timestamp")])


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
    """A DMS source (crm.customers, legacy_sql.shipments): the day's change files to current state,
    and the metric dates the changes touch recorded for the KPI."""
    source = CDC_SOURCES[dataset]
    # read by the changes, the counts and the quarantine
    raw, rows_read, unreadable = read_raw_batch(spark, raw_path, lambda reader, *paths: reader.parquet(*paths), quarantine_root, dataset, ingest_date)
    changes, quarantined = source.prepare(raw, contract)
    # Materialised and counted in one pass. `prepare` puts every row read in one of its two parts,
    # so the quarantine's count is the rows read less the valid changes (issue 17: the quarantine
    # was counted in a pass of its own, every rule evaluated again: 0.09-0.25 s a run at 5M;
    # docs/decisions.md 166).
    changes, valid_changes = raw_objects.materialised(changes)
    key = contract["key"]
    ensure_cdc_tables(spark, dataset, contract, table)
    # Tombstones of applied deletes: a delete removes the row, so without them a replayed older
    # insert would bring it back. A change not newer than its key's tombstone is ignored.
    tombstones = f"{table}{cdc.TOMBSTONE_SUFFIX}"
    # Materialised: the tombstones change below, and this batch must be judged against the old ones.
    live = cdc.newer_than_tombstones(cdc.latest_change_per_key(changes, key), spark.table(tombstones), key).localCheckpoint()
    evaluate(live.where(F.col(cdc.OP) != "D"), contract, table)
    live_counts = live.agg(F.count(F.lit(1)).alias("changes"), F.count(F.when(F.col(cdc.OP) == "D", 1)).alias("deletes")).first()
    # What the batch's keys were before it, for the dates their old versions covered: materialised
    # before the MERGE, which changes what a lazy read would return.
    batch_keys = changes.select(*key).distinct()
    before = spark.table(table).join(batch_keys, key, "left_semi").localCheckpoint()
    history = f"{table}{cdc.HISTORY_SUFFIX}"
    versions_before = spark.table(history).join(batch_keys, key, "left_semi").localCheckpoint() if source.keeps_history else None

    live.createOrReplaceTempView(f"{dataset}_changes")
    spark.sql(cdc.merge_statement(table, f"{dataset}_changes", key, [c["name"] for c in contract["columns"]]))
    if live_counts["deletes"]:  # most days delete nothing: their run skips a MERGE that would change nothing (issue 17)
        merge_on_key(spark, tombstones, live.where(F.col(cdc.OP) == "D").select(*key, cdc.COMMIT_TS), key, f"{dataset}_deletes")
    if source.keeps_history:
        # Every change is a version, late or not (a change older than a delete is still history).
        versions = cdc.latest_change_per_key(changes, [*key, cdc.COMMIT_TS])
        merge_on_key(spark, history, versions, [*key, cdc.COMMIT_TS], f"{dataset}_versions", replace_when=None)
    recorded = kpi_dates.record(spark, kpi_dates.ledger_table(table), source.kpi_changes(before, changes, versions_before), dataset, ingest_date)

    stats = RunStats(dataset, read=rows_read, written=live_counts["changes"], details={"kpi_changes_recorded": recorded, "unreadable_objects": unreadable})
    stats.quarantined = write_quarantine(quarantined, quarantine_root, dataset, ingest_date, count=rows_read - valid_changes)
    raw.unpersist()
    changes.unpersist()
    return stats


def run_keyed(
    spark: SparkSession,
    dataset: str,
    contract: Mapping[str, Any],
    raw_path: str,
    table: str,
    quarantine_root: str,
    day: str,
    evaluate: Evaluator = enforce_locally,
) -> RunStats:
    """A source with no logic of its own (lakehouse.keyed): the day's raw rows, checked against
    the contract, one per key, MERGEd on the key. Not a KPI input, so it records no KPI dates.
    A day with no raw folder is an empty batch, not a failure: a source that changes rarely (the
    device registry) has days without a record, and its writer (Firehose) then writes nothing."""
    rows_read, unreadable = 0, 0
    if _existing(spark, [raw_path]):
        raw, rows_read, unreadable = read_raw_batch(spark, raw_path, lambda reader, *paths: keyed.read_raw(reader, paths, contract), quarantine_root, dataset, day)
    else:
        raw = keyed.empty_raw(spark, contract).persist()
    rows, quarantined, left_out = keyed.prepare(raw, contract)
    rows = rows.localCheckpoint()
    evaluate(rows, contract, table)
    ensure_table(spark, table, contract_columns(contract), contract["processed"]["partitioning"])
    version = contract["processed"].get("versionColumn")
    merge_on_key(spark, table, rows, contract["key"], f"{dataset}_rows", replace_when=f"s.`{version}` > t.`{version}`" if version else "true")
    stats = RunStats(dataset, read=rows_read, written=rows.count(), details={**left_out, "unreadable_objects": unreadable})
    stats.quarantined = write_quarantine(quarantined, quarantine_root, dataset, day)
    raw.unpersist()
    return stats


# The landed job's ledger, next to its table: the event dates each run added rows to, and when.
LANDED_DATES_SUFFIX = "__landed_dates"
LANDED_DATES_COLUMNS = [("event_date", "date"), ("landed_at", "timestamp"), ("ingest_date", "string")]
# The landing's partition folders (lib/constructs/processed-zone-delivery.ts writes them).
LANDING_PARTITIONS = ("event_date", "event_hour")


def landed_dates_table(table: str) -> str:
    return f"{table}{LANDED_DATES_SUFFIX}"


def landing_days(day: str, horizon_days: int) -> list[str]:
    """The event days a run reads: the day and the `horizon_days` before it, oldest first."""
    last = date.fromisoformat(day)
    return [(last - timedelta(days=n)).isoformat() for n in range(horizon_days, -1, -1)]


def _existing(spark: SparkSession, paths: Sequence[str]) -> list[str]:
    """The paths that exist (a day no record fell in has no folder; Spark fails on a missing path)."""
    found = []
    for text in paths:
        fs, path = raw_objects.hadoop_path(spark, text)
        if fs.exists(path):
            found.append(text)
    return found


def read_landing(spark: SparkSession, landing_path: str, contract: Mapping[str, Any], days: Sequence[str]) -> DataFrame:
    """The landing's rows of the given event days, in the contract's columns (the folder names dropped)."""
    root = landing_path.rstrip("/") + "/"
    folders = _existing(spark, [f"{root}event_date={d}/" for d in days])
    if not folders:
        return spark.createDataFrame([], spark_ddl(contract))
    landed = spark.read.option("basePath", root).parquet(*folders)
    return keyed.typed(landed.drop(*LANDING_PARTITIONS), contract)


def run_landed(
    spark: SparkSession,
    dataset: str,
    contract: Mapping[str, Any],
    landing_path: str,
    table: str,
    quarantine_root: str,
    day: str,
    horizon_days: int,
    evaluate: Evaluator = enforce_locally,
) -> RunStats:
    """A dataset a streaming job lands in the processed zone (its contract's `landing`: Parquet by
    the record's own date and hour, written by Firehose) into its Iceberg table. Each run reads the
    event days from `horizon_days` before `day` to `day` again, so a record that landed late in an
    older folder is taken by the next run within the horizon; it checks the rows against the
    contract (quarantined with reasons), keeps one per key (exact copies, as an at-least-once
    delivery makes, counted and dropped; differing copies quarantined together), and inserts the
    keys the table does not have. A key the table has is never replaced: a copy that differs from
    the table's row is quarantined, not dropped. The event dates that gained rows are appended to
    the ledger `<table>__landed_dates` with the time, which the warehouse's load reads."""
    key = contract["key"]
    days = landing_days(day, horizon_days)
    landed = read_landing(spark, landing_path, contract, days).persist()
    ensure_table(spark, table, contract_columns(contract), contract["processed"]["partitioning"])
    ledger = landed_dates_table(table)
    ensure_table(spark, ledger, LANDED_DATES_COLUMNS)
    event_time = contract["landing"]["eventTime"]
    valid, quarantined = split_by_reasons(landed, contract_reasons(contract))
    distinct = valid.dropDuplicates()
    # The table's rows of the batch's keys, within the days read (a range of the event time, which
    # prunes the table's day partitions):
    # a row equal to one of them is already in; one that differs is quarantined, the table's kept.
    known = spark.table(table).where(on_days(f"`{event_time}`", [date.fromisoformat(d) for d in days])).join(distinct.select(*key), key, "left_semi").localCheckpoint()
    columns = [c["name"] for c in contract["columns"]]
    unseen = distinct.exceptAll(known.select(*columns))
    differing = unseen.join(known.select(*key), key, "left_semi").withColumn(
        REASONS, F.array(F.lit(f"{', '.join(key)}: differs from the row already in the table")))
    new, conflicting = keyed.conflicts(unseen.join(known.select(*key), key, "left_anti"), key, "another row of the same key in this batch differs")
    new = new.localCheckpoint()
    quarantined = quarantined.unionByName(differing).unionByName(conflicting)
    evaluate(new, contract, table)
    new.writeTo(table).append()
    added_dates = new.select(F.to_date(F.col(event_time)).alias("event_date")).distinct()
    recorded = (added_dates.withColumn("landed_at", F.current_timestamp()).withColumn("ingest_date", F.lit(day))
                .select(*[n for n, _ in LANDED_DATES_COLUMNS]).localCheckpoint())
    if recorded.count():
        recorded.writeTo(ledger).append()
    copies = valid.count() - distinct.count()
    stats = RunStats(dataset, read=landed.count(), written=new.count(),
                     details={"duplicates": copies, "already_in_table": distinct.count() - unseen.count(), "event_dates_added": recorded.count()},
                     lists={"event_days_read": days})
    stats.quarantined = write_quarantine(quarantined, quarantine_root, dataset, day)
    landed.unpersist()
    return stats


TELEMATICS_EXTRA = [("distance_km", "double"), ("fuel_l", "double"), ("interval_seconds", "bigint"), ("interval_status", "string"), ("load_band", "string")]
# A column of the run's own: the reading is its vehicle-day's last among those recomputed.
LAST_OF_DAY = "_last_of_day"


def readings_on(readings: DataFrame, days: DataFrame) -> DataFrame:
    """The readings (vehicle_id, ts) that lie in one of `days` (vehicle_id, day), a frame
    small enough to broadcast (a batch's vehicle-days)."""
    listed = F.broadcast(days.select(F.col("vehicle_id").alias("_vd_vehicle"), F.col("day").alias("_vd_day")))
    return readings.join(listed, (F.col("vehicle_id") == F.col("_vd_vehicle")) & (F.to_date("ts") == F.col("_vd_day")), "left_semi")


def run_telematics(
    spark: SparkSession, contract: Mapping[str, Any], raw_path: str, table: str, quarantine_root: str, ingest_date: str, evaluate: Evaluator = enforce_locally
) -> RunStats:
    """Readings on (vehicle_id, ts), the first arrival kept; the intervals of every vehicle-day the
    batch touched, and of the day after (its first interval ends at that day's first reading, whose
    predecessor may be the batch's), recomputed with the vehicle's previous reading, so a late
    reading fixes its neighbours' intervals too; one write. The days recomputed are recorded for
    the KPI.

    Where the time goes (issue 17): the raw JSON is parsed with the contract's raw types (no
    inference pass); the first arrival and the intervals are one window by vehicle, so the readings
    are shuffled once, and its result is cached once (the reading before each touched day is joined
    to its day's first reading by broadcast, not put into the window); the data-quality rules read
    that cache, the rows the write leaves, in its order (docs/decisions.md 162); the summary's rows
    and the ledger's days are each vehicle-day's last reading, marked in that window, and the
    quarantine's count is the batch's less its valid readings (docs/decisions.md 163); the table is
    read only for the touched days' files (a range of ts, which prunes the day partitions) and, for
    each touched day, the vehicle's last reading on the latest untouched day before it (found, with
    its odometer and fuel, on the summary of each vehicle-day's last reading that the job keeps,
    lakehouse.vehicle_days, not on the table's history); the touched days' rows, intervals included,
    are written once: appended when the table holds none of them (a first load), MERGEd otherwise,
    the MERGE reading the touched days' files alone; then the summary's months the batch reached
    (docs/decisions.md 158-160)."""
    # Parsed once, with the raw types: the vehicle-days, the window and the quarantine all read it.
    raw_schema = raw_json_ddl(contract)
    raw, rows_read, unreadable = read_raw_batch(spark, raw_path, lambda reader, *paths: reader.schema(raw_schema).json(list(paths)), quarantine_root, "telematics", ingest_date)
    # Copies included: the first arrival and the intervals are one window by vehicle below, over the
    # batch read from the cache (issue 17: the deduplicated batch cached apart, then windowed again
    # for the intervals, cost a second materialisation of every reading; docs/decisions.md 162).
    valid, quarantined = telematics.checked(raw, contract)
    ensure_table(spark, table, [*contract_columns(contract), *TELEMATICS_EXTRA], contract["processed"]["partitioning"])
    key = contract["key"]
    columns = [c["name"] for c in contract["columns"]]

    # The batch's vehicle-days (a copy lies on its reading's day), with their valid readings, and
    # the day after each: the touched days. The valid readings' count gives the quarantine's: every
    # reading read is valid or quarantined (issue 17: the quarantine was counted in a pass of its own).
    per_day = valid.groupBy("vehicle_id", F.to_date("ts").alias("day")).agg(F.count(F.lit(1)).alias("valid")).localCheckpoint()
    days = per_day.select("vehicle_id", "day")
    batch_days = per_day.groupBy("day").agg(F.sum("valid").alias("valid")).collect()
    quarantined_rows = rows_read - sum(row["valid"] for row in batch_days)
    touched = days.unionByName(days.select("vehicle_id", F.date_add("day", 1).alias("day"))).distinct().localCheckpoint()
    touched_days = sorted({row["day"] for row in batch_days} | {row["day"] + timedelta(days=1) for row in batch_days})
    current = spark.table(table).select(*columns)
    # The table's rows of the touched vehicle-days: the range of ts prunes the table's day partitions.
    in_touched = readings_on(current.where(on_days("ts", touched_days)), touched)
    table_has_touched_rows = in_touched.limit(1).count() > 0
    if table_has_touched_rows:
        in_touched = in_touched.localCheckpoint()  # read from the table before the write: see `cached` below
        # The first arrival wins, among the batch's copies and the table's row: a later copy changes
        # nothing, an earlier one (batches run out of order) replaces the table's row. At equal
        # ingest times the table's row stays. `_new`: a key the table did not hold: found among the
        # key's rows as the peers of one ts in the vehicle's window, so the first arrival and the
        # intervals share its one shuffle.
        both = in_touched.withColumn("_from_batch", F.lit(0)).unionByName(valid.select(*columns).withColumn("_from_batch", F.lit(1)))
        same_key = telematics.by_vehicle().orderBy("ts").rangeBetween(Window.currentRow, Window.currentRow)
        in_table = F.min("_from_batch").over(same_key) == 0
        kept = telematics.first_arrivals(both.withColumn("_in_table", in_table), F.col("_from_batch").asc()).select(*columns, (~F.col("_in_table")).alias("_new"))
    else:
        kept = telematics.first_arrivals(valid).select(*columns, F.lit(True).alias("_new"))  # a first load, a new day: every reading is new
    # For each touched day, the vehicle's last reading on an untouched day before it: the day's
    # first interval's predecessor when no touched reading lies between them. Its key is on an
    # untouched day, so it is none of `kept`'s. Found, counters included, on the summary of each
    # vehicle-day's last reading, which the job keeps (rebuilt from the table when it does not
    # reflect it): the table itself is read for the touched days alone.
    summary, summary_rebuilt = vehicle_days.load(spark, table)
    untouched = summary.join(F.broadcast(touched), ["vehicle_id", "day"], "left_anti")
    t, u = touched.alias("t"), untouched.alias("u")
    latest = F.max(F.struct(F.col("u.last_ts").alias("ts"), F.col("u.last_odometer_km").alias("odometer_km"), F.col("u.last_fuel_used_l").alias("fuel_used_l")))
    earlier = (t.join(u, (F.col("u.vehicle_id") == F.col("t.vehicle_id")) & (F.col("u.day") < F.col("t.day")))
               .groupBy(F.col("t.vehicle_id").alias("vehicle_id"), F.col("t.day").alias("day")).agg(latest.alias("_e"))
               .select("vehicle_id", "day", "_e.ts", "_e.odometer_km", "_e.fuel_used_l")).localCheckpoint()
    # Each vehicle-day's last reading marked in the intervals' window: the summary's rows and the
    # ledger's days are read off those rows, not aggregated by vehicle-day over every reading
    # (issue 17: that aggregation and the ledger's distinct took 3 s of 45 at 5M readings).
    recomputed = telematics.with_intervals(kept, earlier).withColumn(LAST_OF_DAY, telematics.last_of_day())
    # Cached, not checkpointed: a cached frame keeps its partitioning by vehicle and its order by
    # (vehicle_id, ts), so the data-quality rules' window reads it without a shuffle (a local
    # checkpoint forgets both: issue 17). Its lineage reads no table, only the cached raw batch and
    # checkpoints: Spark recomputes a cached query that reads a table once that table is written
    # (the MERGE, the summary's save), which would read the table's new rows (test_daily_reads
    # counts the reads).
    # The count by interval status fills it, and gives the readings new to the table.
    cached = recomputed.select(*columns, *[n for n, _ in TELEMATICS_EXTRA], "_new", LAST_OF_DAY).persist()
    by_status = cached.groupBy("interval_status").agg(F.count(F.lit(1)).alias("rows"), F.count(F.when(F.col("_new"), 1)).alias("new")).collect()
    new_readings = sum(row["new"] for row in by_status)
    last_readings = cached.where(LAST_OF_DAY).select("vehicle_id", "ts", "odometer_km", "fuel_used_l").localCheckpoint()
    recomputed = cached.drop("_new", LAST_OF_DAY)
    # The rules hold for every row the write leaves on the touched days: the batch's first arrivals
    # and, on a merge, the table's rows they join with their intervals recomputed.
    evaluate(recomputed, contract, table)
    if table_has_touched_rows:
        # A row of the table with a recomputed row's key has its ts, so lies on a touched day.
        merge_on_key(spark, table, recomputed, key, "telematics_intervals", target_within=on_days("t.ts", touched_days))
    else:
        recomputed.writeTo(table).append()  # none of the touched days' rows is in the table yet
    # The last reading of each of the batch's vehicle-days, as written: that day's summary row. The
    # touched days after them keep theirs (their readings' intervals changed, not their readings).
    vehicle_days.save(spark, table, summary, vehicle_days.of_readings(readings_on(last_readings, days)), summary_rebuilt)
    # Every day with a recomputed reading has a last one.
    recorded = kpi_dates.record(spark, kpi_dates.ledger_table(table), last_readings.select(F.to_date("ts").alias("metric_date")), "telematics", ingest_date)

    stats = RunStats("telematics", read=rows_read, written=new_readings)
    stats.quarantined = write_quarantine(quarantined, quarantine_root, "telematics", ingest_date, count=quarantined_rows)
    stats.details = {
        "duplicates": stats.read - stats.quarantined - new_readings,
        "kpi_dates_recorded": recorded,
        "unreadable_objects": unreadable,
        "vehicle_days_rebuilt": int(summary_rebuilt),
        **{f"intervals_{row['interval_status']}": row["rows"] for row in by_status},
    }
    raw.unpersist()
    cached.unpersist()
    return stats


def run_weather(
    spark: SparkSession,
    contract: Mapping[str, Any],
    raw_path: str | Sequence[str],
    table: str,
    quarantine_root: str,
    day: str,
    cities: Sequence[str],
    evaluate: Evaluator = enforce_locally,
    first_day: str | None = None,
) -> RunStats:
    """The day's hourly series per city (missing hours flagged), MERGEd on (city, observation_hour).
    An observation of another day in the day's folder (a late hour) is taken for its own day; an
    observation of a city that is not configured is quarantined. A missing-hour row never replaces
    an observation the table already holds. The days written are recorded for the KPI.

    A range run (`first_day` .. `day`, `raw_path` the folders of those days) does the same for
    every day of the range in one pass: one job run instead of one a day, for a reload of the
    range (docs/decisions.md 154). Its quarantine and ledger entries are filed under the ingest
    date `<first_day>..<day>`."""
    days = [d.isoformat() for d in kpi_dates.date_range(first_day or day, day)]
    batch = day if len(days) == 1 else f"{days[0]}..{days[-1]}"
    raw_schema = raw_json_ddl(contract)  # no inference pass (issue 17: a daily run's fixed costs)
    raw, rows_read, unreadable = read_raw_batch(spark, raw_path, lambda reader, *paths: reader.schema(raw_schema).json(list(paths)), quarantine_root, "weather", batch)
    valid, quarantined = weather.prepare(raw, contract)
    configured = F.col("city").isin(*cities)
    unconfigured = valid.where(~configured).withColumn(
        REASONS, F.array(F.concat(F.lit("city: '"), F.col("city"), F.lit(f"' is not a configured city ({', '.join(cities)})")))
    )
    valid = valid.where(configured).localCheckpoint()
    in_range = F.to_date("observation_hour").between(F.lit(days[0]).cast("date"), F.lit(days[-1]).cast("date"))
    series = weather.hourly_series(spark, valid.where(in_range), days[0], days[-1], cities)
    other_days = weather.with_flags(valid.where(~in_range))
    written = series.unionByName(other_days).select(*[c["name"] for c in contract["columns"]], "is_missing", "temp_range").localCheckpoint()
    evaluate(written.where(~F.col("is_missing")), contract, table)  # flagged gaps are rows by design
    ensure_table(spark, table, [*contract_columns(contract), ("is_missing", "boolean"), ("temp_range", "string")], contract["processed"]["partitioning"])
    merge_on_key(spark, table, written, contract["key"], "weather_series", replace_when="NOT (s.is_missing AND NOT t.is_missing)")
    recorded = kpi_dates.record(spark, kpi_dates.ledger_table(table), written.select(F.to_date("observation_hour").alias("metric_date")), "weather", batch)
    # the counts in one pass over what was written
    counts = written.agg(F.count(F.lit(1)).alias("written"), F.count(F.when(in_range & F.col("is_missing"), 1)).alias("missing"),
                         F.count(F.when(~in_range, 1)).alias("other_days")).first()
    stats = RunStats("weather", read=rows_read, written=counts["written"])
    stats.details = {"missing_hours": counts["missing"], "rows_for_other_days": counts["other_days"], "kpi_dates_recorded": recorded,
                     "unreadable_objects": unreadable}
    stats.quarantined = write_quarantine(quarantined.unionByName(unconfigured), quarantine_root, "weather", ingest_date=batch)
    raw.unpersist()
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

# Every interval the KPI considered, with its attribution and outcome: the grain of the warehouse's
# fact_fuel_interval (warehouse/), in the aggregated zone beside telemetry_metrics.
INTERVALS_TABLE = "fuel_intervals"
INTERVAL_COLUMNS = [
    ("vehicle_id", "string"),
    ("ts", "timestamp"),
    ("metric_date", "date"),
    ("shipment_id", "string"),
    ("customer_id", "string"),
    ("city", "string"),
    ("temp_range", "string"),
    ("weather_condition", "string"),
    ("customer_segment", "string"),
    ("distance_km", "double"),
    ("fuel_l", "double"),
    ("outcome", "string"),
]


def intervals_table(metrics_table: str) -> str:
    """fuel_intervals, in the namespace of telemetry_metrics."""
    return f"{metrics_table.rsplit('.', 1)[0]}.{INTERVALS_TABLE}"


# Every KPI date each run recomputed, and when: what the warehouse's daily load reloads
# (warehouse/load/pending_dates.sql), so the star follows the lake's late corrections.
RECOMPUTED_TABLE = "kpi_recomputed_dates"
RECOMPUTED_COLUMNS = [("metric_date", "date"), ("recomputed_at", "timestamp")]


def recomputed_table(metrics_table: str) -> str:
    return f"{metrics_table.rsplit('.', 1)[0]}.{RECOMPUTED_TABLE}"


# The processed datasets the KPI reads: the aggregation job's inputs in lib/registry/jobs.json
# (a test holds the two equal).
KPI_INPUTS = ("telematics", "weather", "shipments", "customers")


def kpi_input_tables(namespace: str) -> dict[str, str]:
    """The tables the KPI reads, in the processed namespace (`lake.<db>`): the four processed
    datasets, the customers' versions and the ledger of changed dates."""
    tables = {name: f"{namespace}.{name}" for name in KPI_INPUTS}
    tables["customer_versions"] = f"{tables['customers']}{cdc.HISTORY_SUFFIX}"
    tables["changed_dates"] = f"{namespace}.{kpi_dates.TABLE_NAME}"
    return tables


@dataclass
class KpiRun(RunStats):
    # metric date -> interval outcome -> count, for every date recomputed
    outcomes_by_date: dict[str, dict[str, int]] = field(default_factory=dict)


def run_aggregation(
    spark: SparkSession,
    tables: Mapping[str, str],
    metrics_table: str,
    day: str,
    horizon_days: int,
    backfill_from: str | None = None,
    now: datetime | None = None,
) -> KpiRun:
    """telemetry_metrics of every date whose inputs changed, from the processed tables.

    The daily run (for `day`) recomputes `day` and every date the ledger holds from `day` -
    `horizon_days` on; older dates in the ledger are not recomputed but counted and listed
    (dates_beyond_horizon, alarmed), and stay in the ledger for a backfill. A backfill
    (`backfill_from` .. `day`) recomputes every date of its range, whatever the ledger holds.
    The recomputed dates' rows are replaced in one atomic commit (overwrite by filter), even where
    the new result has none, in fuel_intervals (every interval with its attribution and outcome)
    and then in telemetry_metrics; then the ledger entries read are consumed.
    """
    from .contracts import contract_of, load_contracts

    started = now or datetime.now(timezone.utc)
    ledger = tables["changed_dates"]
    kpi_dates.ensure_ledger(spark, ledger)
    if not spark.catalog.tableExists(tables["customer_versions"]):
        # Customers may start later than telemetry (or never, in a supplied raw zone): their tables
        # exist from the start, with the contract's schema, and every segment is then 'unknown'.
        ensure_cdc_tables(spark, "customers", contract_of(load_contracts(), "customers"), tables["customers"])
    shipments = spark.table(tables["shipments"])
    pending = kpi_dates.resolve(spark.table(ledger).where(F.col("recorded_at") < F.lit(started)), shipments).localCheckpoint()
    pending_dates = sorted({row["metric_date"] for row in pending.select("metric_date").distinct().collect()})
    if backfill_from:
        dates = kpi_dates.date_range(backfill_from, day)
        floor = dates[0]
    else:
        floor = date.fromisoformat(day) - timedelta(days=horizon_days)
        dates = sorted({date.fromisoformat(day), *[d for d in pending_dates if d >= floor]})
    beyond = [d for d in pending_dates if d < floor]

    # Ranges of ts, which prune the tables' day partitions: the run reads its dates' files alone.
    intervals = spark.table(tables["telematics"]).where(on_days("ts", dates))
    weather_rows = spark.table(tables["weather"]).where(on_days("observation_hour", dates))
    # Only a shipment that overlaps the recomputed dates can hold one of their intervals
    # (departed_at <= ts < arrived_at), and the latest-departed choice among those is the same as
    # among all: the daily run cuts periods from its days' shipments, not from the whole history,
    # which grows every day.
    overlapping = shipments.where((F.col("departed_at") < F.lit(f"{dates[-1] + timedelta(days=1)} 00:00:00").cast("timestamp"))
                                  & (F.col("arrived_at") > F.lit(f"{dates[0]} 00:00:00").cast("timestamp")))
    attributed = metrics.attributed_intervals(intervals, overlapping, weather_rows, spark.table(tables["customer_versions"])).localCheckpoint()
    result = metrics.telemetry_metrics(attributed)
    # The intervals first: should the job fail between the two commits, the ledger is not consumed
    # and the rerun replaces both.
    by_date = [{"column": "metric_date", "transform": "identity"}]
    ensure_table(spark, intervals_table(metrics_table), INTERVAL_COLUMNS, by_date)
    attributed.withColumn("metric_date", F.to_date("ts")).select(*[c for c, _ in INTERVAL_COLUMNS]).writeTo(intervals_table(metrics_table)).overwrite(
        F.col("metric_date").isin(dates)
    )
    ensure_table(spark, metrics_table, METRICS_COLUMNS, by_date)
    result.select(*[c for c, _ in METRICS_COLUMNS]).writeTo(metrics_table).overwrite(F.col("metric_date").isin(dates))
    # Then the record of what changed, for the warehouse: appended after both tables, so an entry
    # never names a date whose rows are not yet there.
    ensure_table(spark, recomputed_table(metrics_table), RECOMPUTED_COLUMNS, [])
    stamp = started.astimezone(timezone.utc).replace(tzinfo=None)
    spark.createDataFrame([(d, stamp) for d in dates], "metric_date date, recomputed_at timestamp").writeTo(recomputed_table(metrics_table)).append()
    kpi_dates.consume(spark, ledger, started, dates, pending)

    stats = KpiRun("telemetry_metrics", read=intervals.count(), written=result.count(), outcomes_by_date={d.isoformat(): {} for d in dates})
    for row in attributed.groupBy(F.to_date("ts").alias("metric_date"), "outcome").count().collect():
        stats.outcomes_by_date.setdefault(row["metric_date"].isoformat(), {})[row["outcome"]] = row["count"]
    stats.details = {**metrics.outcome_counts(attributed), "dates_recomputed": len(dates), "dates_beyond_horizon": len(beyond)}
    stats.lists = {"dates_recomputed": [d.isoformat() for d in dates], "dates_beyond_horizon": [d.isoformat() for d in beyond]}
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
