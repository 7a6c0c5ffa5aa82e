"""Processing benchmark: rows per second of the Glue pipelines on local Spark (3.5.6 + Iceberg
1.10.0) at two sizes, against DuckDB computing the same KPI over the same processed data, and the
processed data's size against the raw JSON's.

A generator writes N vehicles x M days of raw data in the raw zone's layout: telemetry one reading
a minute for 12 hours a day (GZIP-free NDJSON as Firehose lands it, per ingest date and hour),
shipments and customers as DMS Parquet, weather as the weather pull writes it.

Usage: .venv/bin/python bench/processing.py [telematics rows per size, comma-separated; default 1000000,5000000]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "glue-scripts"))

import duckdb  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from lakehouse import metrics, pipelines  # noqa: E402
from lakehouse.contracts import contract_of, load_contracts  # noqa: E402
from lakehouse.spark import local_session  # noqa: E402

READINGS_PER_DAY = 720  # one a minute, 06:00 to 18:00
DAYS = 14
CITIES = ["Madrid", "Barcelona", "Valencia", "Seville", "Zaragoza", "Bilbao"]
CONDITIONS = ["clear", "cloudy", "rain", "fog"]
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def generate(raw: Path, vehicles: int, spark) -> int:
    """Writes the raw zone; returns the bytes of raw telemetry JSON."""
    tel_bytes = 0
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
                    lines.append(
                        f'{{"vehicle_id":"v{v}","ts":{ts},"latitude":40.4,"longitude":-3.7,"speed_kmh":48.0,'
                        f'"odometer_km":{v * 1000 + n * 0.8:.3f},"fuel_used_l":{n * (0.2 + (v % 7) * 0.01):.4f},'
                        f'"load_kg":{(v % 5) * 3000.0},"engine_temp_c":90.0,"ingested_at":{ts + 900}}}\n'
                    )
            text = "".join(lines)
            (folder / "part-0.json").write_text(text)
            tel_bytes += len(text)
        weather_dir = raw / "raw/weather/weather" / f"ingest_date={day:%Y-%m-%d}"
        weather_dir.mkdir(parents=True)
        (weather_dir / "all.ndjson").write_text("".join(
            json.dumps({"city": c, "observation_hour": f"{day:%Y-%m-%d}T{h:02d}:00:00Z", "temperature_c": 3.0 + h + i * 2,
                        "precipitation_mm": 0.0, "wind_speed_kmh": 10.0, "weather_code": 1, "condition": CONDITIONS[(h + i) % 4],
                        "latitude": 40.0, "longitude": -3.0}) + "\n"
            for i, c in enumerate(CITIES) for h in range(24)))
    commit = datetime(2026, 10, 31, 23)
    shipments = [
        (f"s{v}-{d}", f"c{v % 50}", f"v{v}", CITIES[v % len(CITIES)], None,
         (START + timedelta(days=d, hours=6)).strftime("%Y-%m-%d %H:%M:%S"), (START + timedelta(days=d, hours=18)).strftime("%Y-%m-%d %H:%M:%S"),
         1000.0, "delivered", "I", commit)
        for v in range(vehicles) for d in range(DAYS)
    ]
    spark.createDataFrame(shipments, "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp").write.parquet(str(raw / "raw/legacy_sql/shipments/all"))
    segments = ["enterprise", "mid_market", "small_business", "public_sector"]
    customers = [(f"c{i}", f"Customer {i}", segments[i % 4], "ES", commit, commit, "I", commit) for i in range(50)]
    spark.createDataFrame(customers, "customer_id string, customer_name string, segment string, country_code string, created_at timestamp, updated_at timestamp, Op string, commit_ts timestamp").write.parquet(str(raw / "raw/crm/customers/all"))
    return tel_bytes


KPI_SQL = """
SELECT CAST(i.ts AS DATE) AS metric_date, s.origin_city AS city, w.temp_range, w.condition AS weather_condition,
       COALESCE(c.segment, 'unknown') AS customer_segment, COUNT(*) AS intervals, COUNT(DISTINCT i.vehicle_id) AS vehicles,
       SUM(i.distance_km) AS distance_km, SUM(i.fuel_l) AS fuel_l, 100 * SUM(i.fuel_l) / SUM(i.distance_km) AS fuel_l_per_100km
FROM intervals i
JOIN shipments s ON s.vehicle_id = i.vehicle_id AND s.departed_at <= i.ts AND i.ts < s.arrived_at
JOIN weather w ON w.city = s.origin_city AND w.observation_hour = date_trunc('hour', i.ts) AND NOT w.is_missing
LEFT JOIN customers c ON c.customer_id = s.customer_id
WHERE i.interval_status = 'ok'
GROUP BY ALL
"""


def run(size: int) -> dict:
    vehicles = max(1, size // (READINGS_PER_DAY * DAYS))
    contracts = load_contracts()
    work = Path(tempfile.mkdtemp(prefix="bench-processing-"))
    try:
        started = time.perf_counter()
        spark = local_session("bench-processing", str(work / "warehouse"))
        spark.sparkContext.setLogLevel("ERROR")
        startup = time.perf_counter() - started
        raw_bytes = generate(work, vehicles, spark)
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
        for d in range(DAYS):
            day = f"{START + timedelta(days=d):%Y-%m-%d}"
            pipelines.run_weather(spark, contract_of(contracts, "weather"), str(work / f"raw/weather/weather/ingest_date={day}"), "lake.p.weather", q, day, CITIES)
        timings["weather"] = time.perf_counter() - t

        tables = {n: spark.table(f"lake.p.{n}") for n in ("telematics", "shipments", "weather", "customers")}
        t = time.perf_counter()
        attributed = metrics.attributed_intervals(tables["telematics"], tables["shipments"], tables["weather"], tables["customers"])
        spark_kpi = metrics.telemetry_metrics(attributed)
        spark_kpi.writeTo("lake.a.telemetry_metrics").createOrReplace()
        timings["aggregation"] = time.perf_counter() - t

        # DuckDB reads the same processed data, exported as plain Parquet (not timed).
        export = work / "export"
        for name, df in tables.items():
            df.write.parquet(str(export / name))
        con = duckdb.connect()
        for name in tables:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{export / name}/*.parquet')")
        con.execute("CREATE VIEW intervals AS SELECT * FROM telematics")
        t = time.perf_counter()
        duck = con.execute(f"SELECT COUNT(*), SUM(intervals), SUM(fuel_l) FROM ({KPI_SQL})").fetchone()
        duck_seconds = time.perf_counter() - t
        spark_check = spark.table("lake.a.telemetry_metrics").agg(F.count("*"), F.sum("intervals"), F.sum("fuel_l")).collect()[0]
        assert duck[0] == spark_check[0] and duck[1] == spark_check[1] and abs(duck[2] - spark_check[2]) < 1e-6 * abs(duck[2]), (duck, spark_check)

        processed_bytes = spark.sql("SELECT SUM(file_size_in_bytes) FROM lake.p.telematics.files").collect()[0][0]
        spark.stop()
        return {"rows": rows, "vehicles": vehicles, "startup_s": startup, "timings": timings, "duckdb_s": duck_seconds, "raw_bytes": raw_bytes, "processed_bytes": processed_bytes, "kpi_rows": duck[0]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1000000,5000000").split(",")]
    results = [run(size) for size in sizes]
    for r in results:
        t = r["timings"]
        print(f"processing, {r['rows']:,} telematics rows ({r['vehicles']} vehicles x {DAYS} days), local Spark on 2 cores:")
        print(f"  Spark session start-up: {r['startup_s']:.1f} s (not in the figures below)")
        print(f"  telematics ETL: {t['telematics']:.1f} s = {r['rows'] / t['telematics']:,.0f} rows/s")
        print(f"  CDC (shipments + customers): {t['cdc']:.1f} s; weather ({DAYS} days x {len(CITIES)} cities): {t['weather']:.1f} s")
        print(f"  aggregation: Spark {t['aggregation']:.1f} s vs DuckDB {r['duckdb_s']:.1f} s on the same processed data: ratio {t['aggregation'] / r['duckdb_s']:.2f} (target <= 3), {r['kpi_rows']} KPI rows, identical")
        print(f"  processed telematics (Iceberg Parquet) {r['processed_bytes'] / 1e6:.1f} MB vs raw JSON {r['raw_bytes'] / 1e6:.1f} MB: {r['processed_bytes'] / r['raw_bytes']:.3f} (target <= 0.2)")
    if len(results) == 2:
        small, large = results
        scale = sum(large["timings"].values()) / sum(small["timings"].values())
        print(f"  scaling: total job time at {large['rows']:,} rows is {scale:.2f} x the time at {small['rows']:,} (target <= 5.5)")
    print(json.dumps({"bench": "processing", "results": results}, default=str))


if __name__ == "__main__":
    main()
