"""The small daily jobs' cost per run: the weather's daily runs and the two CDC jobs' first loads, on
the processing benchmark's files at its 5M-row size (500 vehicles x 14 days), in one warm local
Spark session (2 cores, as bench/processing.py). For each: wall seconds per run, CPU seconds per
run (this process and its JVM, so a slow or shared machine shows as wall time the CPU did not
spend), and Spark jobs per run, which no machine's speed changes. These runs read a few thousand
rows whatever the fleet's size: what they cost is Spark's machinery per query (analysis, planning,
scheduling, Iceberg commits), which is what a change to them must show it removed (issue 17).

Usage: .venv/bin/python bench/small_jobs.py [rounds; default 3]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "glue-scripts"))
sys.path.insert(0, str(ROOT / "bench"))

import processing  # noqa: E402
from lakehouse import pipelines  # noqa: E402
from lakehouse.contracts import contract_of, load_contracts  # noqa: E402
from lakehouse.spark import local_session  # noqa: E402

VEHICLES = 500  # the processing benchmark's 5,040,000-row size: 7,000 shipments
WARM_UP_DAYS = 2  # the first runs load classes and compile; they are not counted


def process_tree_cpu_seconds() -> float:
    """User and system CPU seconds of this process and its descendants (the JVM), from /proc."""
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stats[int(entry)] = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while listed
    children: dict[int, list[int]] = {}
    for pid, fields in stats.items():
        children.setdefault(int(fields[1]), []).append(pid)  # ppid
    tick, total, todo = os.sysconf("SC_CLK_TCK"), 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / tick  # utime, stime
    return total


def measured(spark, runs: list) -> dict:
    """Wall and CPU seconds and Spark jobs per run of `runs` (callables), run in turn."""
    tracker = spark.sparkContext.statusTracker()
    # Job ids are sequential; the tracker keeps only the latest 1,000 jobs, so the ids are compared, not counted.
    last_job = lambda: max(tracker.getJobIdsForGroup(), default=-1)  # noqa: E731
    jobs, cpu, started = last_job(), process_tree_cpu_seconds(), time.perf_counter()
    for run in runs:
        run()
    wall = time.perf_counter() - started
    return {"wallSecondsPerRun": round(wall / len(runs), 3), "cpuSecondsPerRun": round((process_tree_cpu_seconds() - cpu) / len(runs), 3),
            "sparkJobsPerRun": round((last_job() - jobs) / len(runs), 1)}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    contracts = load_contracts()
    work = Path(tempfile.mkdtemp(prefix="bench-small-jobs-"))
    try:
        spark = local_session("bench-small-jobs", str(work / "warehouse"), cores=processing.CORES, driver_memory=f"{4 * processing.CORES}g")
        spark.sparkContext.setLogLevel("ERROR")
        processing.write_weather(work)
        processing.write_dms(work, VEHICLES, spark)
        days = [f"{processing.START + timedelta(days=d):%Y-%m-%d}" for d in range(processing.DAYS)]
        quarantine = str(work / "quarantine")

        def weather_run(day: str, table: str):
            return lambda: pipelines.run_weather(spark, contract_of(contracts, "weather"), str(work / f"raw/weather/weather/ingest_date={day}"),
                                                 table, quarantine, day, processing.CITIES)

        def cdc_run(dataset: str, folder: str, namespace: str):
            # Into a new table each time: a first load, as the processing benchmark's
            return lambda: pipelines.run_cdc(spark, dataset, contract_of(contracts, dataset), str(work / folder), f"lake.{namespace}.{dataset}", quarantine, "bench")

        def cdc_runs(namespace: str) -> list:
            return [cdc_run("shipments", "raw/legacy_sql/shipments/all", namespace), cdc_run("customers", "raw/crm/customers/all", namespace)]

        for day in days[:WARM_UP_DAYS]:
            weather_run(day, "lake.warm.weather")()
        for run in cdc_runs("warm"):
            run()
        results = {"weather": [], "cdc": []}
        for r in range(rounds):
            # The daily runs after the warm-up, in order, into one table, as the processing benchmark's
            results["weather"].append(measured(spark, [weather_run(day, f"lake.r{r}.weather") for day in days[WARM_UP_DAYS:]]))
            results["cdc"].append(measured(spark, cdc_runs(f"r{r}")))
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {job: {key: statistics.median(m[key] for m in runs) for key in runs[0]} for job, runs in results.items()}
    print(f"small daily jobs, {rounds} rounds in one warm session, 2 cores; medians (each round's figures in the JSON line):")
    print(f"  weather, {processing.DAYS - WARM_UP_DAYS} daily runs of {len(processing.CITIES)} cities x 24 hours: "
          f"{summary['weather']['wallSecondsPerRun']:.2f} s a run ({summary['weather']['cpuSecondsPerRun']:.2f} CPU s), {summary['weather']['sparkJobsPerRun']:.0f} Spark jobs")
    print(f"  CDC, shipments ({VEHICLES * processing.DAYS:,} rows) and customers (50) as first loads: "
          f"{summary['cdc']['wallSecondsPerRun']:.2f} s a run ({summary['cdc']['cpuSecondsPerRun']:.2f} CPU s), {summary['cdc']['sparkJobsPerRun']:.1f} Spark jobs")
    sizes = {"weatherRowsPerRun": len(processing.CITIES) * 24, "shipments": VEHICLES * processing.DAYS, "customers": processing.CUSTOMERS}
    print(json.dumps({"bench": "small-jobs", "rounds": rounds, "sizes": sizes, "summary": summary, "results": results}))


if __name__ == "__main__":
    main()
