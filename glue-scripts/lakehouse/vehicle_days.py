"""Each vehicle-day's last reading in the telematics table, kept by the telematics job.

A day's first interval ends at its first reading and starts at the vehicle's reading before it,
which can lie on any earlier day (DESIGN.md: a vehicle back after a week has a gap, not a first
reading). Finding it from the readings took two columns of every row of the table's history on
every daily run. This summary holds one row per vehicle-day (3,000 vehicles make about 1.1
million a year, against prod's 259 million readings a day), so a run reads it whole instead
(issue 17, docs/decisions.md 159). It holds the reading's counters as well (odometer, fuel), the
interval's other end, so the run reads no readings but those of the days it touches
(docs/decisions.md 160).

It is a second table, written after the readings, so a run can fail between the two commits.
Each write of the summary records, in its own commit's summary, the readings table's snapshot it
reflects. A run uses the summary only when that is the readings table's last change (compactions,
which move rows between files, do not count); otherwise it rebuilds the summary from the readings
(the old full read, once), and says so in its counts. The same covers the first run on a table
that predates the summary.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from .iceberg import ensure_table, last_change

SUFFIX = "__vehicle_days"
COLUMNS = [("vehicle_id", "string"), ("day", "date"), ("last_ts", "timestamp"), ("last_odometer_km", "double"), ("last_fuel_used_l", "double")]
# Months: a late batch rewrites the month of each day it reaches, a few thousand rows a day, and a
# year is 12 files for the run to read, not 365.
PARTITIONING = [{"transform": "month", "column": "day"}]
# The readings table's snapshot the summary reflects, a property of the summary's commit.
READINGS_SNAPSHOT = "telematics-snapshot-id"


def table_of(readings_table: str) -> str:
    """`lake.<db>.telematics` -> `lake.<db>.telematics__vehicle_days`."""
    return f"{readings_table}{SUFFIX}"


def of_readings(readings: DataFrame) -> DataFrame:
    """The summary's rows of readings that hold each of their vehicle-days' last reading (every
    reading, or the last ones alone), one per (vehicle_id, ts): each vehicle-day's last reading,
    with its counters."""
    # The struct's greatest is the latest ts's (ts first, and unique in a vehicle-day).
    last = F.max(F.struct("ts", "odometer_km", "fuel_used_l"))
    return (readings.groupBy("vehicle_id", F.to_date("ts").alias("day")).agg(last.alias("_last"))
            .select("vehicle_id", "day", *(F.col(f"_last.{c}").alias(f"last_{c}") for c in ("ts", "odometer_km", "fuel_used_l"))))


def load(spark: SparkSession, readings_table: str) -> tuple[DataFrame, bool]:
    """The summary of the readings table as it stands, materialised (the run reads it twice and
    then overwrites it), and whether it had to be rebuilt from the readings."""
    summary_table = table_of(readings_table)
    ensure_table(spark, summary_table, COLUMNS, PARTITIONING)
    readings_change, summary_change = last_change(spark, readings_table), last_change(spark, summary_table)
    current = readings_change is not None and summary_change is not None and summary_change["summary"].get(READINGS_SNAPSHOT) == str(readings_change["snapshot_id"])
    source = spark.table(summary_table) if current else of_readings(spark.table(readings_table))
    return source.select(*(name for name, _ in COLUMNS)).localCheckpoint(), not current


def save(spark: SparkSession, readings_table: str, before: DataFrame, written: DataFrame, rebuilt: bool) -> None:
    """After the readings' commit: `written` (of_readings of the rows the run wrote, each of the
    batch's vehicle-days' last reading, as the table now holds them) replaces those
    vehicle-days' rows; the others stay. Replaced, not the later of the two: the batch's copy of a
    reading can win over the table's (an earlier arrival) and bring other counters. A run writes the
    months it reached; a rebuild writes the whole summary. The commit records the readings'
    snapshot, even when no row changed."""
    summary_table = table_of(readings_table)
    written = written.localCheckpoint()  # read three times below: the anti-join, the union, the months
    readings_change = last_change(spark, readings_table)
    keys = ["vehicle_id", "day"]
    columns = [name for name, _ in COLUMNS]
    updated = before.join(written.select(*keys), keys, "left_anti").select(*columns).unionByName(written.select(*columns))
    writer = lambda frame: frame.writeTo(summary_table).option(f"snapshot-property.{READINGS_SNAPSHOT}", str(readings_change["snapshot_id"]) if readings_change else "")
    if rebuilt:
        writer(updated).overwrite(F.lit(True))
        return
    months = [r["month"] for r in written.select(F.trunc("day", "month").alias("month")).distinct().collect()]
    if months:
        # A dynamic overwrite replaces the month partitions its rows fall in: all of each month's rows are written.
        writer(updated.where(F.trunc("day", "month").isin(months))).overwritePartitions()
    else:
        writer(updated.limit(0)).append()  # an empty append still commits, with the property
