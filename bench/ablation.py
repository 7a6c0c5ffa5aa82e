"""What each change of issue 17 bought: the Spark daily path (telematics, CDC, weather,
aggregation) at one size, on the same generated raw files, with the pipelines of each commit of
the change, one fresh Spark session (local[2], 8 GiB) per commit. The commits are checked out as
git worktrees in a temporary folder; each runs in its own Python process so that it imports its
own `lakehouse` package and contracts. One more run takes the current pipelines with JSON schema
inference put back (DataFrameReader.schema made a no-op), which separates the raw-types read
from the rest of the first commit.

Usage: .venv/bin/python bench/ablation.py [telematics rows; default 5040000]
Prints a line per variant and one JSON line. Not part of the tests; run it on an idle machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (what the commit changed, commit); in the order they landed.
VARIANTS = [
    ("before issue 17", "d30e148"),
    ("raw types, one write, per-day summary, attribution periods", "512b83e"),
    ("every DQ rule in one aggregation", "1c70e0b"),
    ("no first-arrival ranking on a first load", "3055c33"),
    ("one shuffle by vehicle for the first arrival and the intervals (current)", "HEAD"),
]


def run_variant(glue_scripts: str, raw: str, infer: bool) -> dict:
    """In a child process: the daily path with the lakehouse package found in `glue_scripts`."""
    sys.path.insert(0, glue_scripts)
    from lakehouse import metrics, pipelines  # noqa: PLC0415
    from lakehouse.contracts import contract_of, load_contracts  # noqa: PLC0415
    from lakehouse.spark import local_session  # noqa: PLC0415

    if infer:
        from pyspark.sql.readwriter import DataFrameReader  # noqa: PLC0415

        DataFrameReader.schema = lambda self, schema: self  # every JSON read infers its schema again
    sys.path.insert(0, str(ROOT / "bench"))
    from processing import CITIES, DAYS, START  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="bench-ablation-run-"))
    try:
        spark = local_session("bench-ablation", str(work / "warehouse"))
        spark.sparkContext.setLogLevel("ERROR")
        contracts = load_contracts()
        q = str(work / "quarantine")
        timings = {}
        t = time.perf_counter()
        pipelines.run_telematics(spark, contract_of(contracts, "telematics"), f"{raw}/raw/iot/telematics", "lake.p.telematics", q, "bench")
        timings["telematics"] = time.perf_counter() - t
        t = time.perf_counter()
        pipelines.run_cdc(spark, "shipments", contract_of(contracts, "shipments"), f"{raw}/raw/legacy_sql/shipments/all", "lake.p.shipments", q, "bench")
        pipelines.run_cdc(spark, "customers", contract_of(contracts, "customers"), f"{raw}/raw/crm/customers/all", "lake.p.customers", q, "bench")
        timings["cdc"] = time.perf_counter() - t
        t = time.perf_counter()
        for d in range(DAYS):
            day = f"{START + timedelta(days=d):%Y-%m-%d}"
            pipelines.run_weather(spark, contract_of(contracts, "weather"), f"{raw}/raw/weather/weather/ingest_date={day}", "lake.p.weather", q, day, CITIES)
        timings["weather"] = time.perf_counter() - t
        tables = {n: spark.table(f"lake.p.{n}") for n in ("telematics", "shipments", "weather", "customers")}
        t = time.perf_counter()
        kpi = metrics.telemetry_metrics(metrics.attributed_intervals(tables["telematics"], tables["shipments"], tables["weather"], tables["customers"]))
        kpi.writeTo("lake.a.telemetry_metrics").createOrReplace()
        timings["aggregation"] = time.perf_counter() - t
        rows = sorted(tuple(r) for r in spark.table("lake.a.telemetry_metrics").select("metric_date", "city", "temp_range", "weather_condition", "customer_segment", "intervals", "fuel_l").collect())
        spark.stop()
        return {"timings": timings, "kpi_rows": len(rows), "kpi_digest": hash(tuple((r[:6] + (round(r[6], 6),)) for r in rows))}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--variant":
        _, _, glue_scripts, raw, infer = sys.argv
        print(json.dumps(run_variant(glue_scripts, raw, infer == "infer")))
        return
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 5_040_000
    sys.path.insert(0, str(ROOT / "glue-scripts"))
    sys.path.insert(0, str(ROOT / "bench"))
    from lakehouse.spark import local_session  # noqa: PLC0415
    from processing import DAYS, READINGS_PER_DAY, generate  # noqa: PLC0415

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYTHONHASHSEED": "0",
           # 4 GiB a core, as processing.py gives its session; old commits' local_session has no memory argument.
           "PYSPARK_SUBMIT_ARGS": "--driver-memory 8g pyspark-shell"}
    work = Path(tempfile.mkdtemp(prefix="bench-ablation-"))
    try:
        spark = local_session("bench-ablation-generate", str(work / "unused"))
        vehicles = max(1, size // (READINGS_PER_DAY * DAYS))
        generate(work / "data", vehicles, spark)
        spark.stop()
        results = []
        runs = [(what, commit, False) for what, commit in VARIANTS] + [("the current pipelines with schema inference put back", "HEAD", True)]
        for what, commit, infer in runs:
            tree = work / f"tree-{commit}"
            if not tree.exists():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True, capture_output=True)
                # The Iceberg jars setup fetched (not in git): every commit pins the same versions.
                (tree / "glue-scripts" / "target").symlink_to(ROOT / "glue-scripts" / "target")
            child = subprocess.run([sys.executable, __file__, "--variant", str(tree / "glue-scripts"), str(work / "data"), "infer" if infer else "types"],
                                   capture_output=True, text=True, env=env)
            if child.returncode != 0:
                raise SystemExit(f"{what} ({commit}) failed:\n" + "\n".join(child.stderr.splitlines()[-30:]))
            result = {"what": what, "commit": commit, "infer": infer, **json.loads(child.stdout.strip().splitlines()[-1])}
            results.append(result)
            t = result["timings"]
            print(f"{what} ({commit}): " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items()) + f"; whole path {sum(t.values()):.1f} s; "
                  f"telematics {vehicles * READINGS_PER_DAY * DAYS / t['telematics']:,.0f} rows/s; {result['kpi_rows']} KPI rows", flush=True)
        if len({(r["kpi_rows"], r["kpi_digest"]) for r in results}) != 1:
            raise AssertionError("the variants' KPI rows differ: " + "; ".join(f"{r['commit']}: {r['kpi_rows']} rows, digest {r['kpi_digest']}" for r in results))
        print(json.dumps({"bench": "ablation", "rows": vehicles * READINGS_PER_DAY * DAYS, "results": results}))
    finally:
        for tree in work.glob("tree-*"):
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
