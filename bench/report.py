"""Writes bench/RESULTS.md from the JSON lines the benchmarks print (bench/results.jsonl): the
machine, every figure, and each target with its verdict. Run by scripts/bench.sh."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


def command(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
    except Exception:  # a missing tool is reported as such, the report still gets written
        return "not found"


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    return [
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem_kb / 1024 / 1024:.0f} GiB",
        f"- Node.js {command('node', '--version')}, Python {platform.python_version()}, {command('java', '--version')}",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


# Every benchmark scripts/bench.sh runs. A results file that lacks one is a partial run: written,
# it would replace the README's whole table with its few rows, as a run of the Flink benchmark
# alone once did (docs/decisions.md 168).
EXPECTED = ("lambda-bundle", "weather-pull", "sensor-pull", "telemetry-alerts", "flink-sql", "processing", "small-jobs", "warehouse-load")


def main(results_file: str) -> None:
    results = {}
    # bench/flink_sql.py runs at two sizes (scripts/bench.sh), a row each: each query's fixed cost
    # (planning, deployment, start and end) weighs most at the smaller one (docs/decisions.md 167).
    flink_runs = []
    for line in Path(results_file).read_text().splitlines():
        if line.startswith("{"):
            item = json.loads(line)
            results[item["bench"]] = item
            if item["bench"] == "flink-sql":
                flink_runs.append(item)
    if missing := [name for name in EXPECTED if name not in results]:
        raise SystemExit(f"{results_file} lacks the results of {', '.join(missing)}: bench/RESULTS.md and the README's block are left as they are")
    out = ["# Benchmark results", "", "Written by `npm run bench` (scripts/bench.sh, bench/report.py). Figures, not tests.", "", "## Machine", "", *machine(), ""]
    rows: list[str] = []
    if b := results.get("lambda-bundle"):
        ratio = b["initRatio"]
        rows.append(f"| weather-pull bundle (shipped vs naive) | {b['shipped']['bundleKiB']} KiB vs {b['naive']['bundleKiB']} KiB | | |")
        rows.append(f"| weather-pull module init, median of {b['runs']} | {b['shipped']['initMsMedian']} ms vs {b['naive']['initMsMedian']} ms | ratio <= 0.33 | {ratio:.2f}, {verdict(ratio <= 0.33)} |")
    if b := results.get("weather-pull"):
        rows.append(f"| weather-pull, {b['cities']} cities against the local API and moto | {b['msPerCity']} ms per city | | |")
    if b := results.get("sensor-pull"):
        rows.append(f"| sensor-pull PutRecords calls per 10,000 readings | {b['putRecordsCallsPer10k']} | exactly 20 | {verdict(b['putRecordsCallsPer10k'] == 20)} |")
        moto_verdict = "met" if b["readingsPerSecond"] >= 20000 else f"20,000 not reached; profile: the handler alone does {b['handlerReadingsPerSecond']:,}/s, moto takes the rest"
        rows.append(f"| sensor-pull end to end into moto | {b['readingsPerSecond']:,} readings/s | >= 20,000 or a profile | {moto_verdict} |")
    if b := results.get("warehouse-load"):
        for r in b["results"]:
            rows.append(f"| warehouse daily load, {r['rows']:,} intervals of one day on PostgreSQL 15 | {r['rowsPerSecond']:,} rows/s ({r['loadSeconds']} s; rerun {r['rerunSeconds']} s) | | |")
    if b := results.get("telemetry-alerts"):
        rows.append(f"| live alerts, {b['readings']:,} readings at 1 Hz through the function into moto's DynamoDB | {b['readingsPerSecond']:,} readings/s (function alone {b['handlerReadingsPerSecond']:,}/s) | | |")
        floor = round(10_000 / b["tumblingWindowSeconds"])
        rows.append(f"| live alerts DynamoDB writes per 10,000 readings, {b['tumblingWindowSeconds']} s window vs none | {b['writesPer10k']} vs {b['perBatchWritesPer10k']} | state changes and a save per vehicle a window (floor {floor}) | {verdict(b['writesPer10k'] < b['perBatchWritesPer10k'] and b['writesPer10k'] <= 1.1 * floor + 10)} |")
    for b in flink_runs:
        rows.append(f"| Flink SQL enrichment job vs pass-through, {b['readings']:,} readings, median of {b['rounds']} | {b['enrichmentPerSecond']:,} vs {b['passthroughPerSecond']:,} records/s | ratio >= 0.5 | {b['ratio']:.2f}, {verdict(b['ratio'] >= 0.5)} |")
    if b := results.get("processing"):
        runs = b["results"]
        # The targets apply at 5M rows (the run nearest it); the other sizes are shown for context and scaling.
        large = min(runs, key=lambda r: abs(r["rows"] - 5_000_000))
        for r in runs:
            t, d = r["timings"], r["duckdb"]
            rate = r["rows"] / t["telematics"]
            is_large = r is large
            # The first size runs in a cold JVM (class loading, JIT): the later ones reuse it warm.
            cold = " (first in the process: cold JVM)" if r is runs[0] and len(runs) > 1 else ""
            rows.append(f"| telematics ETL, {r['rows']:,} rows{cold} | {rate:,.0f} rows/s | {'>= 100,000' if is_large else ''} | {verdict(rate >= 100_000) if is_large else ''} |")
            steps = ", ".join(f"{k} {t[k]:.1f} vs {d[k]:.2f}" for k in ("telematics", "cdc", "weather", "aggregation"))
            ratio = sum(t.values()) / sum(d.values())
            rows.append(f"| daily path Spark vs DuckDB reference at {r['rows']:,} rows, s ({steps}; DuckDB each step's best of {len(r['duckdb_runs_s'])} runs) | {sum(t.values()):.1f} s vs {sum(d.values()):.2f} s | "
                        f"{'<= 5x' if is_large else ''} | {ratio:.1f}x{', ' + verdict(ratio <= 5) if is_large else ''} |")
            # A bound on the ratio (bench/processing.py, telematics_floor).
            rows.append(f"| daily path with Spark's telematics at its floor (parse and append, nothing else; warm JVM: {r['telematics_floor_s']:.1f} s) at {r['rows']:,} rows | "
                        f"{r['floor_path_s']:.1f} s vs {sum(d.values()):.2f} s | | {r['floor_path_s'] / sum(d.values()):.1f}x |")
            rows.append(f"| DuckDB KPI step alone over Spark's processed data at {r['rows']:,} rows, median of 5: own tables vs Spark's Parquet files | "
                        f"{r['duckdb_kpi_from_tables_s']:.2f} s vs {r['duckdb_kpi_from_spark_files_s']:.2f} s | | |")
        for small, bigger in zip(runs, runs[1:]):
            grow = bigger["rows"] / small["rows"]
            # Linear cost: 4x the rows in at most 4.4x the time (issue 17), from the 5M run up.
            linear = small is large and round(grow) == 4
            for engine, key in (("Spark", "timings"), ("DuckDB", "duckdb")):
                scale = sum(bigger[key].values()) / sum(small[key].values())
                target = "<= 4.4" if linear and engine == "Spark" else ""
                rows.append(f"| {engine} whole path {bigger['rows']:,} / {small['rows']:,} rows ({grow:.0f}x the rows) | {scale:.2f} | {target} | {verdict(scale <= 4.4) if target else ''} |")
        size = large["processed_bytes"] / large["raw_bytes"]
        rows.append(f"| processed Parquet / raw JSON | {size:.3f} | <= 0.2 | {verdict(size <= 0.2)} |")
        rows.append(f"| Spark session start-up (apart) | {runs[0]['startup_s']:.1f} s | | |")
    if b := results.get("small-jobs"):
        n = b["sizes"]
        for job, what in (("weather", f"weather daily run ({n['weatherRowsPerRun']} rows)"), ("cdc", f"CDC first load (shipments {n['shipments']:,} rows, customers {n['customers']})")):
            m = b["summary"][job]
            rows.append(f"| {what}, median of {b['rounds']} rounds in a warm session: wall s (CPU s), Spark jobs per run | "
                        f"{m['wallSecondsPerRun']:.2f} s ({m['cpuSecondsPerRun']:.2f} s), {m['sparkJobsPerRun']:g} jobs | | |")
    table = ["| benchmark | figure | target | verdict |", "|---|---|---|---|", *rows]
    out += ["## Figures", "", *table, ""]
    sys.stdout.write("\n".join(out))
    update_readme(machine()[0].removeprefix("- date: "), table)


README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(date: str, table: list[str]) -> None:
    """Replaces the README's benchmark block with the latest figures."""
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    block = "\n".join([START, f"Latest run: {date}, on the machine described in bench/RESULTS.md.", "", *table, END])
    README.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
