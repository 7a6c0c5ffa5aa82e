"""Processing benchmark: the daily path, raw files in and KPI rows out, in Spark (the platform's
Glue pipelines on local Spark 3.5.6 + Iceberg 1.10.0) and in DuckDB (bench/duckdb_reference.py, a
reference written for the benchmark), on the same files, step by step, at each size; both
engines' KPI rows compared row by row. Spark runs the path once, DuckDB three times, each step's
best taken: the machine's noise is charged to Spark, not to the reference. Then Spark's floor for
the telematics step (parse and append, nothing else) and the whole path over it: the bound the
ratio cannot beat. Also the KPI step alone over Spark's processed data in DuckDB, read from
Spark's Parquet files and from DuckDB's own tables, with DuckDB's plan (EXPLAIN ANALYZE, written
to bench/plans/), and the processed data's size against the raw JSON's.

A generator writes N vehicles x M days of raw data in the raw zone's layout: telemetry one reading
a minute for 12 hours a day (GZIP NDJSON as Firehose lands it, per ingest date and hour),
shipments and customers as DMS Parquet, weather as the weather pull writes it. Each step runs once
over the 14 days in both engines (Spark's weather job as a range run).

Usage: .venv/bin/python bench/processing.py [telematics rows per size, comma-separated; default 1000000,5000000]
"""

from __future__ import annotations

import gzip
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "glue-scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb  # noqa: E402

import duckdb_reference  # noqa: E402
from lakehouse import metrics, pipelines, telematics  # noqa: E402
from lakehouse.contracts import contract_of, load_contracts, raw_json_ddl  # noqa: E402
from lakehouse.iceberg import contract_columns, ensure_table  # noqa: E402
from lakehouse.spark import local_session  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

PLANS = ROOT / "bench" / "plans"
MEASURED = ROOT / "bench" / "measured.json"
CORES = 2  # local_session runs Spark as local[2]: the per-row costs are core-seconds of two cores
STEPS = ("telematics", "cdc", "weather", "aggregation")
READINGS_PER_DAY = 720  # one a minute, 06:00 to 18:00
DAYS = 14
CITIES = ["Madrid", "Barcelona", "Valencia", "Seville", "Zaragoza", "Bilbao"]
CONDITIONS = ["clear", "cloudy", "rain", "fog"]
CUSTOMERS = 50
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def generate(raw: Path, vehicles: int, spark) -> tuple[int, float]:
    """Writes the raw zone; returns the bytes of raw telemetry JSON (uncompressed) and the GZIP
    ratio of one hour's file at the default level."""
    tel_bytes = 0
    noise = random.Random(17)
    for d in range(DAYS):
        day = START + timedelta(days=d)
        for hour in range(6, 18):
            folder = raw / "raw/iot/telematics" / f"ingest_date={day:%Y-%m-%d}" / f"ingest_hour={hour:02d}"
            folder.mkdir(parents=True)
            lines = []
            for v in range(vehicles):
                for minute in range(60):
                    n = d * READINGS_PER_DAY + (hour - 6) * 60 + minute
                    ts = int((day + timedelta(hours=hour, minutes=minute)).timestamp() * 1000)
                    # Positions, speeds and temperatures that move as a vehicle's do: constant values
                    # would compress as no fleet's data does, and the capacity model sizes the zones
                    # from these files (bench/measured.json).
                    jitter = noise.random() - 0.5  # GPS and sensor noise: real readings are never smooth curves
                    lines.append(
                        f'{{"vehicle_id":"v{v}","ts":{ts},"latitude":{40.4 + 0.3 * math.sin(n / 97 + v) + jitter * 0.0004:.6f},'
                        f'"longitude":{-3.7 + 0.3 * math.cos(n / 89 + v) - jitter * 0.0003:.6f},"speed_kmh":{48 + 40 * math.sin(n / 7 + v * 0.3) + jitter * 6:.1f},'
                        f'"odometer_km":{v * 1000 + n * 0.8:.3f},"fuel_used_l":{n * (0.2 + (v % 7) * 0.01):.4f},'
                        f'"load_kg":{(v % 5) * 3000.0},"engine_temp_c":{88 + 6 * math.sin(n / 53 + v) + jitter:.1f},"ingested_at":{ts + 900 + int((jitter + 0.5) * 4000)}}}\n'
                    )
            text = "".join(lines)
            # Level 1: the generator's time; decompression costs the same at any level.
            (folder / "part-0.json.gz").write_bytes(gzip.compress(text.encode(), compresslevel=1))
            tel_bytes += len(text)
            if d == 0 and hour == 6:
                # What the raw zone holds per JSON byte: Firehose compresses at GZIP's default level.
                gzip_ratio = len(gzip.compress(text.encode(), compresslevel=6)) / len(text)
    write_weather(raw)
    write_dms(raw, vehicles, spark)
    return tel_bytes, gzip_ratio


def write_weather(raw: Path) -> None:
    """The weather pull's files: each day, every configured city's 24 hours."""
    for d in range(DAYS):
        day = START + timedelta(days=d)
        weather_dir = raw / "raw/weather/weather" / f"ingest_date={day:%Y-%m-%d}"
        weather_dir.mkdir(parents=True)
        (weather_dir / "all.ndjson").write_text("".join(
            json.dumps({"city": c, "observation_hour": f"{day:%Y-%m-%d}T{h:02d}:00:00Z", "temperature_c": 3.0 + h + i * 2,
                        "precipitation_mm": 0.0, "wind_speed_kmh": 10.0, "weather_code": 1, "condition": CONDITIONS[(h + i) % 4],
                        "latitude": 40.0, "longitude": -3.0}) + "\n"
            for i, c in enumerate(CITIES) for h in range(24)))


def write_dms(raw: Path, vehicles: int, spark) -> None:
    """DMS Parquet: one shipment per vehicle and day, and CUSTOMERS customers."""
    commit = datetime(2026, 10, 31, 23)
    shipments = [
        (f"s{v}-{d}", f"c{v % CUSTOMERS}", f"v{v}", CITIES[v % len(CITIES)], None,
         (START + timedelta(days=d, hours=6)).strftime("%Y-%m-%d %H:%M:%S"), (START + timedelta(days=d, hours=18)).strftime("%Y-%m-%d %H:%M:%S"),
         1000.0, "delivered", "I", commit)
        for v in range(vehicles) for d in range(DAYS)
    ]
    spark.createDataFrame(shipments, "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp").write.parquet(str(raw / "raw/legacy_sql/shipments/all"))
    segments = ["enterprise", "mid_market", "small_business", "public_sector"]
    customers = [(f"c{i}", f"Customer {i}", segments[i % 4], "ES", commit, commit, "I", commit) for i in range(CUSTOMERS)]
    spark.createDataFrame(customers, "customer_id string, customer_name string, segment string, country_code string, created_at timestamp, updated_at timestamp, Op string, commit_ts timestamp").write.parquet(str(raw / "raw/crm/customers/all"))


def kpi_rows_equal(spark_rows: list, duck_rows: list) -> bool:
    """Same keys, intervals and vehicles; sums equal to 1e-9 relative (the engines add in other orders)."""
    if len(spark_rows) != len(duck_rows):
        return False
    close = lambda a, b: (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)))  # noqa: E731
    return all(s[:7] == d[:7] and all(close(a, b) for a, b in zip(s[7:], d[7:])) for s, d in zip(spark_rows, duck_rows))


def run(size: int) -> dict:
    vehicles = max(1, size // (READINGS_PER_DAY * DAYS))
    contracts = load_contracts()
    days = [f"{START + timedelta(days=d):%Y-%m-%d}" for d in range(DAYS)]
    work = Path(tempfile.mkdtemp(prefix="bench-processing-"))
    try:
        started = time.perf_counter()
        # 4 GiB a core, as a Glue G.1X or G.2X worker has (Spark's local default of 1 GiB spills at 5M rows).
        spark = local_session("bench-processing", str(work / "warehouse"), cores=CORES, driver_memory=f"{4 * CORES}g")
        spark.sparkContext.setLogLevel("ERROR")
        startup = time.perf_counter() - started
        raw_bytes, gzip_ratio = generate(work, vehicles, spark)
        rows = vehicles * READINGS_PER_DAY * DAYS
        q = str(work / "quarantine")
        timings = {}
        t = time.perf_counter()
        pipelines.run_telematics(spark, contract_of(contracts, "telematics"), str(work / "raw/iot/telematics"), "lake.p.telematics", q, "bench")
        timings["telematics"] = time.perf_counter() - t
        t = time.perf_counter()
        pipelines.run_cdc(spark, "shipments", contract_of(contracts, "shipments"), str(work / "raw/legacy_sql/shipments/all"), "lake.p.shipments", q, "bench")
        pipelines.run_cdc(spark, "customers", contract_of(contracts, "customers"), str(work / "raw/crm/customers/all"), "lake.p.customers", q, "bench")
        timings["cdc"] = time.perf_counter() - t
        t = time.perf_counter()
        # One run over the 14 days' folders, as telematics and CDC take theirs, and as the reference
        # does: 14 daily runs charged Spark 14 runs' fixed costs against the reference's one pass
        # (docs/decisions.md 154). bench/small_jobs.py measures the daily run's cost.
        pipelines.run_weather(spark, contract_of(contracts, "weather"), [str(work / f"raw/weather/weather/ingest_date={day}") for day in days],
                              "lake.p.weather", q, days[-1], CITIES, first_day=days[0])
        timings["weather"] = time.perf_counter() - t

        tables = {n: spark.table(f"lake.p.{n}") for n in ("telematics", "shipments", "weather", "customers")}
        t = time.perf_counter()
        attributed = metrics.attributed_intervals(tables["telematics"], tables["shipments"], tables["weather"], tables["customers"])
        spark_kpi = metrics.telemetry_metrics(attributed)
        # Partitioned by metric_date as the aggregation job's table is: its bytes per day size Athena's scans.
        spark_kpi.writeTo("lake.a.telemetry_metrics").partitionedBy(F.col("metric_date")).createOrReplace()
        timings["aggregation"] = time.perf_counter() - t
        floor = telematics_floor(spark, contract_of(contracts, "telematics"), str(work / "raw/iot/telematics"))
        # The bound on the whole path: the telematics step at its floor, every other step as measured.
        floor_path = floor + sum(seconds for step, seconds in timings.items() if step != "telematics")

        columns = ["metric_date", "city", "temp_range", "weather_condition", "customer_segment", "intervals", "vehicles", "distance_km", "fuel_l", "fuel_l_per_100km"]
        # As JSON gives them back (dates as text), to compare with the reference's rows from its own process.
        spark_rows = sorted(tuple(r) for r in json.loads(json.dumps([tuple(r) for r in spark.table("lake.a.telemetry_metrics").select(*columns).collect()], default=str)))
        processed_bytes = spark.sql("SELECT SUM(file_size_in_bytes) FROM lake.p.telematics.files").collect()[0][0]
        kpi_bytes = spark.sql("SELECT SUM(file_size_in_bytes) FROM lake.a.telemetry_metrics.files").collect()[0][0]
        # Spark's processed tables for DuckDB's KPI step alone (not timed).
        export = work / "export"
        for name, df in tables.items():
            df.write.parquet(str(export / name))
        spark.stop()  # DuckDB runs alone on the machine

        # The reference over the same raw files.
        reference = reference_in_own_process(work, days)
        duck_rows = sorted(tuple(r) for r in reference["kpi"])
        if not kpi_rows_equal(spark_rows, duck_rows):
            raise AssertionError(f"the engines' KPI rows differ: Spark {len(spark_rows)} rows, DuckDB {len(duck_rows)}; first: {spark_rows[:1]} vs {duck_rows[:1]}")

        # The KPI step alone over Spark's processed data: from Spark's files, then from DuckDB's tables.
        con = duckdb.connect()
        for name in tables:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{export / name}/*.parquet')")
        from_files = duckdb_reference.kpi_seconds(con)
        row_groups = con.execute(f"SELECT count(*), max(row_group_num_rows) FROM parquet_metadata('{export}/telematics/*.parquet')").fetchone()
        for name in tables:
            con.execute(f"CREATE TABLE {name}_t AS SELECT * FROM {name}")
            con.execute(f"DROP VIEW {name}")
            con.execute(f"ALTER TABLE {name}_t RENAME TO {name}")
        from_tables = duckdb_reference.kpi_seconds(con)
        PLANS.mkdir(exist_ok=True)
        (PLANS / f"duckdb-kpi-{rows}.txt").write_text(duckdb_reference.kpi_plan(con), encoding="utf-8")
        con.close()
        return {"rows": rows, "vehicles": vehicles, "startup_s": startup, "timings": timings, "telematics_floor_s": floor, "floor_path_s": floor_path, "duckdb": reference["timings"], "duckdb_runs_s": reference["runs"],
                "duckdb_kpi_from_spark_files_s": statistics.median(from_files), "duckdb_kpi_from_tables_s": statistics.median(from_tables),
                "spark_row_groups": {"telematics_row_groups": row_groups[0], "largest_row_group_rows": row_groups[1]},
                "raw_bytes": raw_bytes, "raw_gzip_ratio": gzip_ratio, "processed_bytes": processed_bytes, "kpi_rows": len(spark_rows), "kpi_bytes": kpi_bytes}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def telematics_floor(spark, contract, raw_path: str) -> float:
    """Seconds for the least any Spark telematics step does: the raw JSON parsed with the
    contract's raw types, typed, and appended to a table partitioned as the job's. No contract
    check, first arrival, intervals, summary or ledger. Run after the job, in its warm JVM, so it
    is lower than a cold run of the same: a bound the job cannot beat, not a target it can reach
    (docs/decisions.md 161)."""
    table = "lake.p.telematics_floor"
    ensure_table(spark, table, contract_columns(contract), contract["processed"]["partitioning"])
    started = time.perf_counter()
    raw = spark.read.schema(raw_json_ddl(contract)).json(raw_path)
    telematics.typed(raw, contract).writeTo(table).append()
    return time.perf_counter() - started


def fit(rows: tuple[int, int], seconds: tuple[float, float]) -> dict:
    """A step's time as a fixed part plus a part per row, through its times at two sizes. The
    per-row part is given in core-seconds (wall seconds x the cores that ran it), which is what a
    larger cluster divides; a negative fixed part (noise at the small size) is taken as none."""
    per_row = (seconds[1] - seconds[0]) / (rows[1] - rows[0])
    fixed = seconds[0] - rows[0] * per_row
    if fixed < 0 or per_row <= 0:
        fixed, per_row = 0.0, seconds[1] / rows[1]
    return {"fixedSeconds": round(fixed, 2), "coreSecondsPerMillionRows": round(per_row * CORES * 1e6, 2)}


def measured(small: dict, large: dict) -> dict:
    """What the capacity model (lib/config/cost-model.ts) reads: each daily step's cost from the two
    sizes, and the bytes a reading takes in each zone."""
    rows = (small["rows"], large["rows"])
    per_run = lambda key, runs: round(statistics.mean([small["timings"][key], large["timings"][key]]) / runs, 2)  # noqa: E731
    return {
        "measuredOn": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "by": "bench/processing.py",
        "machine": {"cores": CORES},
        "sizes": list(rows),
        "steps": {
            "telematics": fit(rows, (small["timings"]["telematics"], large["timings"]["telematics"])),
            "aggregation": fit(rows, (small["timings"]["aggregation"], large["timings"]["aggregation"])),
            # The two CDC jobs and the weather run read a few thousand rows whatever the size: a cost
            # per run. The weather's is a 14-day run's, so at least a daily run's.
            "cdcSecondsPerRun": per_run("cdc", 2),
            "weatherSecondsPerRun": per_run("weather", 1),
        },
        "bytes": {
            "rawTelemetryGzipRatio": round(large["raw_gzip_ratio"], 4),
            "rawTelemetryJsonBytesPerRow": round(large["raw_bytes"] / large["rows"], 1),
            "processedTelematicsBytesPerRow": round(large["processed_bytes"] / large["rows"], 2),
            "aggregatedBytesPerKpiRow": round(large["kpi_bytes"] / large["kpi_rows"], 1),
            "aggregatedKpiRowsPerDay": round(large["kpi_rows"] / DAYS, 1),
        },
    }


# The reference is run this many times at each size, each in a fresh process on a fresh database.
# On 2026-12-03 its telematics step took 10.4, 19.1, then 11.5-13.4 s over the same 5M-row files
# (this machine's speed varies by the hour): one run made the ratio 6.5x or 11.7x (decision 153).
REFERENCE_RUNS = 3


def reference_in_own_process(work: Path, days: list[str], runs: int = REFERENCE_RUNS) -> dict:
    """DuckDB's run of the daily path in a Python process of its own, `runs` times; each step's
    fastest time. A busy machine only adds time, so the reference's best is the figure fairest to
    it: Spark's one run is compared with DuckDB's best, which cannot flatter Spark. Every run's KPI
    rows must agree (kpi_rows_equal). In one process with Spark, the stopped session leaves its JVM
    (GiBs of heap) alive, and beside it DuckDB's telematics step took 26-30 s at 20M rows against
    21.5-22.3 s alone (docs/decisions.md 131)."""
    results = []
    for _ in range(runs):
        for stale in work.glob("reference.duckdb*"):  # a fresh database each run
            stale.unlink()
        child = subprocess.run([sys.executable, __file__, "--reference", str(work), ",".join(days)], capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError("the DuckDB reference failed:\n" + "\n".join(child.stderr.splitlines()[-30:]))
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    first = sorted(tuple(row) for row in results[0]["kpi"])
    if not all(kpi_rows_equal(first, sorted(tuple(row) for row in r["kpi"])) for r in results[1:]):  # parallel sums vary in the last bits
        raise AssertionError("the DuckDB reference's runs gave different KPI rows")
    best = {step: min(r["timings"][step] for r in results) for step in results[0]["timings"]}
    return {"timings": best, "runs": [sum(r["timings"].values()) for r in results], "kpi": results[0]["kpi"]}


def run_reference(work: Path, days: list[str]) -> None:
    """The child's side: the reference over `work`'s raw zone; its timings and KPI rows as one JSON line."""
    reference = duckdb_reference.daily_path(work / "reference.duckdb", work, {c["dataset"]: c for c in load_contracts()}, days, CITIES)
    print(json.dumps({"timings": reference["timings"], "kpi": reference["kpi"]}, default=str))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reference":
        run_reference(Path(sys.argv[2]), sys.argv[3].split(","))
        return
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1000000,5000000").split(",")]
    results = [run(size) for size in sizes]
    for r in results:
        t, d = r["timings"], r["duckdb"]
        print(f"processing, {r['rows']:,} telematics rows ({r['vehicles']} vehicles x {DAYS} days), 2 cores; {r['kpi_rows']} KPI rows, identical in both engines:")
        print(f"  Spark session start-up: {r['startup_s']:.1f} s (not in the figures below)")
        for step in STEPS:
            print(f"  {step}: Spark {t[step]:.1f} s, DuckDB {d[step]:.2f} s: {t[step] / d[step]:.1f}x")
        print(f"  whole path: Spark {sum(t.values()):.1f} s, DuckDB {sum(d.values()):.2f} s: {sum(t.values()) / sum(d.values()):.1f}x (target <= 5x)")
        print(f"  DuckDB: each step's best of {len(r['duckdb_runs_s'])} runs; the runs' whole paths took {', '.join(f'{x:.2f}' for x in r['duckdb_runs_s'])} s")
        print(f"  telematics ETL in Spark: {r['rows'] / t['telematics']:,.0f} rows/s (target >= 100,000)")
        print(f"  Spark's floor for the telematics step (parse and append, nothing else; warm JVM): {r['telematics_floor_s']:.1f} s; "
              f"the whole path over it: {r['floor_path_s']:.1f} s, {r['floor_path_s'] / sum(d.values()):.1f}x DuckDB")
        print(f"  DuckDB's KPI step alone over Spark's processed data, median of 5: {r['duckdb_kpi_from_tables_s']:.2f} s from its own tables, "
              f"{r['duckdb_kpi_from_spark_files_s']:.2f} s from Spark's Parquet files ({r['spark_row_groups']['telematics_row_groups']} row groups, "
              f"up to {r['spark_row_groups']['largest_row_group_rows']:,} rows each); plan in bench/plans/duckdb-kpi-{r['rows']}.txt")
        print(f"  processed telematics (Iceberg Parquet) {r['processed_bytes'] / 1e6:.1f} MB vs raw JSON {r['raw_bytes'] / 1e6:.1f} MB: {r['processed_bytes'] / r['raw_bytes']:.3f} (target <= 0.2)")
    for small, large in zip(results, results[1:]):
        grow = large["rows"] / small["rows"]
        for engine, key in (("Spark", "timings"), ("DuckDB", "duckdb")):
            print(f"  scaling, {engine}: the whole path at {large['rows']:,} rows takes {sum(large[key].values()) / sum(small[key].values()):.2f}x its time at {small['rows']:,} ({grow:.0f}x the rows)")
    if len(results) >= 2:
        # The two largest sizes: the fit the capacity model extrapolates from is the one nearest fleet scale.
        small, large = results[-2:]
        MEASURED.write_text(json.dumps(measured(small, large), indent=2) + "\n", encoding="utf-8")
        print(f"  wrote {MEASURED.relative_to(ROOT)} (the capacity model's throughputs and sizes)")
    print(json.dumps({"bench": "processing", "results": results}, default=str))


if __name__ == "__main__":
    main()
