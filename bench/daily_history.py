"""A daily telematics run on a table that already holds history: its time, and what it read.

bench/processing.py loads its days into an empty table, so it cannot show what a daily run costs
once the table is old (issue 17, docs/decisions.md 158 and 159). This builds H days of history
(one run a day, one data file a day), then times the run of the next day's batch, which also
carries a late reading of the day before for one vehicle in ten, and prints each scan of the run
from Spark's own metrics (data files and rows, per table). The history runs are not timed.

The fleet: V vehicles, one reading every two minutes around the clock (720 a vehicle-day).

It runs any version of the code (PYTHONPATH decides which `lakehouse` it imports), so the code
before a change and after it are measured the same way, each in its own JVM:

    .venv/bin/python bench/daily_history.py [vehicles, default 1000] [history days, default 12]
    PYTHONPATH=/tmp/old/glue-scripts .venv/bin/python bench/daily_history.py 1000 12
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or ROOT / "glue-scripts")
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(CODE / "tests"))  # the scan metrics helper the read tests use

from lakehouse import pipelines  # noqa: E402
from lakehouse.contracts import contract_of, load_contracts  # noqa: E402
from lakehouse.spark import local_session  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from test_daily_reads import last_execution, scans  # noqa: E402

FIRST = date(2026, 10, 1)
READINGS_PER_DAY = 720  # every two minutes
LATE_EVERY = 10  # one vehicle in ten sends a late reading of the day before with the last batch


def epoch_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)


def write_day(spark, folder: Path, vehicles: int, day: date, late_of: date | None = None) -> str:
    """The day's readings as NDJSON (the contract's raw types: ts and ingested_at in epoch ms),
    plus, with late_of, one reading at 23:59:30 of that day for every LATE_EVERY-th vehicle, its
    odometer and fuel between its neighbours'."""

    def readings(rows: int, vehicle, step, ts_ms):
        """`step`: the reading's place in the vehicle's life, in two-minute steps."""
        return spark.range(rows).select(
            F.concat(F.lit("v"), vehicle.cast("string")).alias("vehicle_id"), ts_ms.alias("ts"),
            (F.lit(40.4) + vehicle * 0.001).alias("latitude"), F.lit(-3.7).alias("longitude"), F.lit(50.0).alias("speed_kmh"),
            (vehicle * 1000 + step * 1.6).alias("odometer_km"), (step * 0.16).alias("fuel_used_l"),
            F.lit(5000.0).alias("load_kg"), F.lit(90.0).alias("engine_temp_c"), (ts_ms + 900).alias("ingested_at"),
        )

    n = F.col("id")
    k = n % READINGS_PER_DAY
    df = readings(vehicles * READINGS_PER_DAY, (n / READINGS_PER_DAY).cast("long"), (day - FIRST).days * READINGS_PER_DAY + k, F.lit(epoch_ms(day)) + k * 120_000)
    if late_of is not None:
        late = epoch_ms(late_of) + (24 * 3600 - 30) * 1000
        df = df.unionByName(readings(vehicles // LATE_EVERY, n * LATE_EVERY, F.lit((late_of - FIRST).days * READINGS_PER_DAY + READINGS_PER_DAY - 0.25), F.lit(late)))
    df.coalesce(2).write.mode("overwrite").json(str(folder))
    return str(folder)


def main() -> None:
    vehicles = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    history_days = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    work = Path(tempfile.mkdtemp(prefix="daily-history-"))
    spark = local_session("daily-history", str(work / "warehouse"), driver_memory="8g")
    spark.sparkContext.setLogLevel("ERROR")
    contract = contract_of(load_contracts(), "telematics")
    table, quarantine = "lake.history_bench.telematics", str(work / "quarantine")
    print(f"code: {CODE}")
    print(f"{vehicles} vehicles, {vehicles * READINGS_PER_DAY:,} readings a day, {history_days} days of history")
    started = time.perf_counter()
    for d in range(history_days):
        day = FIRST + timedelta(days=d)
        pipelines.run_telematics(spark, contract, write_day(spark, work / "raw" / str(day), vehicles, day), table, quarantine, str(day))
    history = spark.table(table).count()
    print(f"history: {history:,} rows in {spark.sql(f'SELECT count(*) FROM {table}.files').first()[0]} files, built in {time.perf_counter() - started:.1f} s")

    day = FIRST + timedelta(days=history_days)
    raw = write_day(spark, work / "raw" / str(day), vehicles, day, late_of=day - timedelta(days=1))
    before = last_execution(spark)
    started = time.perf_counter()
    stats = pipelines.run_telematics(spark, contract, raw, table, quarantine, str(day))
    seconds = time.perf_counter() - started
    print(f"daily run: {seconds:.1f} s, {stats.read:,} read, {stats.written:,} written; details {dict(sorted(stats.details.items()))}")
    summary = f"{table}__vehicle_days"
    for name in (table, summary):
        if not spark.catalog.tableExists(name):
            continue
        found = scans(spark, name, before)
        print(f"  {name}: {len(found)} scans, files {[s['files'] for s in found]}, rows {[s['rows'] for s in found]}")
        print(f"    largest: {max((s['rows'] for s in found), default=0):,} rows; all scans: {sum(s['rows'] for s in found):,} rows")
    spark.stop()


if __name__ == "__main__":
    main()
