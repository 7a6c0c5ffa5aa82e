"""Flink SQL throughput on the local mini cluster: the whole enrichment job (first-arrival
deduplication, the late split, the temporal join and calibration, and the rejected readings'
branch: late readings and conflicting copies) against a plain pass-through of the same readings,
into blackhole sinks. Watermarks are periodic, as the Kinesis sources emit them.
JVM start-up and two warm-up runs of each query happen before timing; each query is timed from
submission to finish, alternating, and the median is reported.

Usage: .venv/bin/python bench/flink_sql.py [readings=300000] [rounds=3]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "flink-app"))

from enrichment import contracts, sql  # noqa: E402
from enrichment.local import sources_on_files  # noqa: E402

SENSORS = 1_000
DUPLICATE_SHARE = 0.2


def write_inputs(directory: Path, readings: int) -> tuple[str, str]:
    rng = random.Random(7)
    start = datetime(2026, 11, 21, tzinfo=timezone.utc)
    iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    (directory / "readings").mkdir()
    (directory / "devices").mkdir()
    with open(directory / "readings" / "part-0.json", "w") as f:
        unique = int(readings / (1 + DUPLICATE_SHARE))
        for i in range(readings):
            n = i if i < unique else rng.randrange(unique)  # the rest repeat earlier readings
            ts = start + timedelta(milliseconds=n * 50)
            f.write(json.dumps({"reading_id": f"r{n}", "sensor_id": f"s{n % SENSORS}", "ts": iso(ts), "metric": "temperature", "value": n % 100, "unit": "C"}) + "\n")
    with open(directory / "devices" / "part-0.json", "w") as f:
        for s in range(SENSORS):
            for version in (1, 2):
                updated = start + timedelta(hours=version - 1) - timedelta(minutes=1)
                row = {"sensor_id": f"s{s}", "version": version, "vehicle_id": f"v{s % 97}", "sensor_type": "t", "calibration_offset": 0.5, "calibration_scale": 1.01, "updated_at": iso(updated)}
                # as DMS puts the registry's rows on the stream (the device_updates contract's raw.envelope)
                metadata = {"record-type": "data", "operation": "load" if version == 1 else "insert", "schema-name": "registry", "table-name": "device_versions"}
                f.write(json.dumps({"data": row, "metadata": metadata}) + "\n")
    return str(directory / "readings"), str(directory / "devices")


BLACKHOLE = {"connector": "blackhole"}


def run_passthrough(readings_path: str, devices_path: str) -> float:
    env = sources_on_files(readings_path, devices_path, readings_max_delay_seconds=60, parallelism=2, watermark_every_record=False)
    env.execute_sql(sql.sink_table_ddl("sink", contracts.contract(contracts.READINGS), BLACKHOLE))
    started = time.perf_counter()
    env.execute_sql(f"INSERT INTO sink SELECT reading_id, sensor_id, ts, metric, `value`, unit FROM `{sql.READINGS_TABLE}`").wait()
    return time.perf_counter() - started


def run_job(readings_path: str, devices_path: str) -> float:
    """The job's own statements (both INSERTs, as one statement set) into blackhole sinks. Watermarks are periodic, as the Kinesis sources emit them."""
    env = sources_on_files(readings_path, devices_path, readings_max_delay_seconds=60, parallelism=2, watermark_every_record=False)
    env.execute_sql(sql.sink_table_ddl(sql.ENRICHED_TABLE, contracts.contract(contracts.ENRICHED), BLACKHOLE))
    env.execute_sql(sql.rejected_table_ddl(sql.REJECTED_TABLE, contracts.contract(contracts.READINGS), BLACKHOLE))
    statements = env.create_statement_set()
    for insert in sql.insert_statements():
        statements.add_insert_sql(insert)
    started = time.perf_counter()
    statements.execute().wait()
    return time.perf_counter() - started


def main() -> None:
    readings = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        readings_path, devices_path = write_inputs(Path(tmp), readings)
        # Warm-up of both: class loading and JIT, which otherwise favour whichever runs later.
        for _ in range(2):
            run_passthrough(readings_path, devices_path)
            run_job(readings_path, devices_path)
        plain, enriched = [], []
        for _ in range(rounds):
            plain.append(run_passthrough(readings_path, devices_path))
            enriched.append(run_job(readings_path, devices_path))
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    plain_rate, enriched_rate = readings / median(plain), readings / median(enriched)
    print(f"flink-sql: {readings} readings ({DUPLICATE_SHARE:.0%} duplicates), {SENSORS} sensors x 2 versions, parallelism 2, median of {rounds}")
    print(f"  pass-through: {plain_rate:,.0f} records/s ({median(plain):.1f} s)")
    print(f"  the enrichment job (dedup, late split, temporal join, calibration, rejected branch): {enriched_rate:,.0f} records/s ({median(enriched):.1f} s)")
    print(f"  ratio {enriched_rate / plain_rate:.2f} (target >= 0.5)")
    print(json.dumps({"bench": "flink-sql", "readings": readings, "rounds": rounds, "passthroughPerSecond": round(plain_rate), "enrichmentPerSecond": round(enriched_rate), "ratio": round(enriched_rate / plain_rate, 3)}))


if __name__ == "__main__":
    main()
