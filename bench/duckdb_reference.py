"""The daily path in DuckDB: a reference written for the benchmark (bench/processing.py), not the
platform's code. Raw files in, KPI rows out, step by step as the Glue jobs split the work, with
the same rules, so both engines' KPI rows can be compared row by row:

- telematics: GZIP NDJSON parsed with the contract's types (epoch milliseconds to timestamps),
  the contract's rules (required, min, max) splitting off what would be quarantined, one reading
  per (vehicle_id, ts), the first ingested, and the interval ending at each reading (distance,
  fuel, seconds, status, load band) from the vehicle's previous reading (lakehouse.telematics);
- cdc: DMS Parquet to current state: legacy names and timestamps, Op normalised, the latest
  change per key by commit time (a delete over an update over an insert at equal times), deletes
  removed (lakehouse.cdc);
- weather: each day's hourly series per configured city, missing hours flagged, temperature
  ranges (lakehouse.weather);
- aggregation: each ok interval's shipment (same vehicle, departed_at <= ts < arrived_at, the one
  that departed last), weather of its city and hour, customer segment, and telemetry_metrics
  (lakehouse.metrics).

Simplifications, each one the benchmark's data cannot tell apart: the quarantined rows are
counted, not written; customers are current state, so each interval's segment is its customer's
segment (the platform picks the version valid at the interval's time; with one version per
customer that is the same row); the legacy timestamp formats are the contract's, translated to
strptime. Everything is written to a DuckDB database file, as the Glue jobs write Iceberg tables.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb

DUCK_TYPES = {"string": "VARCHAR", "double": "DOUBLE", "int": "INTEGER", "bigint": "BIGINT", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN", "date": "DATE"}
MAX_INTERVAL_SECONDS = 15 * 60  # lakehouse.telematics.MAX_INTERVAL_SECONDS
# The shipments contract's raw.legacyTimestamps formats, as strptime formats (%f takes 1 to 6 digits).
LEGACY_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S%z",
                  "%Y-%m-%dT%H:%M:%S.%f%z", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y%m%d%H%M%S", "%b %d %Y %I:%M%p"]


def rules(contract: Mapping[str, Any]) -> str:
    """The contract's rules as one predicate that a valid row satisfies."""
    checks = []
    for c in contract["columns"]:
        name = f'"{c["name"]}"'
        if c.get("required"):
            checks.append(f"{name} IS NOT NULL")
        if "min" in c:
            checks.append(f"({name} IS NULL OR {name} >= {c['min']})")
        if "max" in c:
            checks.append(f"({name} IS NULL OR {name} <= {c['max']})")
        if "allowed" in c:
            allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in c["allowed"])
            checks.append(f"({name} IS NULL OR {name} IN ({allowed}))")
    return " AND ".join(checks) or "TRUE"


def telematics(con: duckdb.DuckDBPyConnection, raw: Path, contract: Mapping[str, Any]) -> dict[str, int]:
    columns = ", ".join(f"'{c['name']}': '{DUCK_TYPES[c.get('raw', {}).get('type', c['type'])]}'" for c in contract["columns"])
    typed = ", ".join(f"epoch_ms(\"{c['name']}\") AS \"{c['name']}\"" if c.get("raw", {}).get("encoding") == "epoch_millis" else f"\"{c['name']}\""
                      for c in contract["columns"])
    con.execute(f"""
        CREATE TEMP TABLE telematics_typed AS
        SELECT {typed} FROM read_json('{raw}/**/*.json.gz', format = 'newline_delimited', columns = {{{columns}}})""")
    valid = rules(contract)
    con.execute(f"""
        CREATE TABLE telematics AS
        WITH readings AS (
            SELECT * FROM telematics_typed WHERE {valid}
            QUALIFY row_number() OVER (PARTITION BY vehicle_id, ts ORDER BY ingested_at) = 1)
        SELECT *,
               odometer_km - lag(odometer_km) OVER previous AS distance_km,
               fuel_used_l - lag(fuel_used_l) OVER previous AS fuel_l,
               epoch(ts) - epoch(lag(ts) OVER previous) AS interval_seconds,
               CASE WHEN lag(ts) OVER previous IS NULL THEN 'first_reading'
                    WHEN odometer_km - lag(odometer_km) OVER previous < 0 OR fuel_used_l - lag(fuel_used_l) OVER previous < 0 THEN 'negative_delta'
                    WHEN epoch(ts) - epoch(lag(ts) OVER previous) > {MAX_INTERVAL_SECONDS} THEN 'gap_over_15_min'
                    ELSE 'ok' END AS interval_status,
               CASE WHEN load_kg IS NULL THEN 'unknown' WHEN load_kg < 500 THEN 'empty' WHEN load_kg <= 12000 THEN 'partial' ELSE 'full' END AS load_band
        FROM readings
        WINDOW previous AS (PARTITION BY vehicle_id ORDER BY ts)""")
    read, = con.execute("SELECT count(*) FROM telematics_typed").fetchone()
    quarantined, = con.execute(f"SELECT count(*) FROM telematics_typed WHERE NOT ({valid})").fetchone()
    con.execute("DROP TABLE telematics_typed")
    return {"read": read, "quarantined": quarantined, "written": con.execute("SELECT count(*) FROM telematics").fetchone()[0]}


def legacy_timestamp(column: str) -> str:
    text = f"regexp_replace(trim(CAST({column} AS VARCHAR)), '\\s+', ' ', 'g')"
    formats = ", ".join(f"'{f}'" for f in LEGACY_FORMATS)
    return (f"COALESCE(CASE WHEN regexp_full_match({text}, '\\d{{10}}') THEN to_timestamp(CAST({text} AS BIGINT))::TIMESTAMP END, "
            f"try_strptime({text}, [{formats}])::TIMESTAMP)")


def current_state(con: duckdb.DuckDBPyConnection, name: str, raw: Path, contract: Mapping[str, Any]) -> dict[str, int]:
    columns = []
    for c in contract["columns"]:
        source = f"\"{c.get('raw', {}).get('name', c['name'])}\""
        if c.get("raw", {}).get("encoding") == "legacy_mixed":
            columns.append(f"{legacy_timestamp(source)} AS \"{c['name']}\"")
        else:
            columns.append(f"CAST({source} AS {DUCK_TYPES[c['type']]}) AS \"{c['name']}\"")
    key = ", ".join(f'"{k}"' for k in contract["key"])
    op = "CASE WHEN \"Op\" IS NULL OR trim(\"Op\") = '' THEN 'I' ELSE upper(trim(\"Op\")) END"
    rank = "CASE \"Op\" WHEN 'D' THEN 3 WHEN 'U' THEN 2 ELSE 1 END"
    con.execute(f"""
        CREATE TABLE {name} AS
        WITH changes AS (SELECT {', '.join(columns)}, {op} AS "Op", commit_ts FROM read_parquet('{raw}/**/*.parquet')),
             latest AS (SELECT * FROM changes WHERE "Op" IN ('I', 'U', 'D') AND {rules({**contract, 'columns': [c for c in contract['columns'] if c['name'] in contract['key']]})}
                        QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY commit_ts DESC NULLS LAST, {rank} DESC) = 1)
        SELECT * EXCLUDE ("Op") FROM latest WHERE "Op" <> 'D'""")
    return {"written": con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]}


def weather(con: duckdb.DuckDBPyConnection, raw: Path, contract: Mapping[str, Any], days: Sequence[str], cities: Sequence[str]) -> dict[str, int]:
    columns = ", ".join(f"'{c['name']}': '{DUCK_TYPES[c['type']]}'" for c in contract["columns"])
    city_list = ", ".join(f"'{c}'" for c in cities)
    con.execute(f"""
        CREATE TABLE weather AS
        WITH observations AS (
                SELECT * FROM read_json('{raw}/**/*.ndjson', format = 'newline_delimited', columns = {{{columns}}})
                WHERE {rules(contract)} AND city IN ({city_list})
                QUALIFY row_number() OVER (PARTITION BY city, observation_hour) = 1),
             grid AS (
                SELECT city, observation_hour
                FROM unnest([{city_list}]) AS c(city),
                     (SELECT unnest(generate_series(TIMESTAMP '{days[0]} 00:00:00', TIMESTAMP '{days[-1]} 23:00:00', INTERVAL 1 HOUR)) AS observation_hour))
        SELECT g.city, g.observation_hour, o.* EXCLUDE (city, observation_hour),
               o.temperature_c IS NULL AS is_missing,
               CASE WHEN o.temperature_c < 10 THEN 'Low' WHEN o.temperature_c < 25 THEN 'Medium' WHEN o.temperature_c >= 25 THEN 'High' END AS temp_range
        FROM grid g LEFT JOIN observations o USING (city, observation_hour)""")
    return {"written": con.execute("SELECT count(*) FROM weather").fetchone()[0]}


# The KPI over the processed tables (lakehouse.metrics.attributed_intervals and telemetry_metrics).
KPI_SQL = f"""
CREATE OR REPLACE TABLE telemetry_metrics AS
WITH ok AS (SELECT vehicle_id, ts, distance_km, fuel_l FROM telematics WHERE interval_status = 'ok'),
     shipped AS (
        SELECT ok.*, s.shipment_id, s.customer_id, s.origin_city AS city
        FROM ok JOIN shipments s ON s.vehicle_id = ok.vehicle_id AND s.departed_at <= ok.ts AND ok.ts < s.arrived_at
        QUALIFY row_number() OVER (PARTITION BY ok.vehicle_id, ok.ts ORDER BY s.departed_at DESC) = 1)
SELECT CAST(i.ts AS DATE) AS metric_date, i.city, w.temp_range, w.condition AS weather_condition,
       COALESCE(c.segment, 'unknown') AS customer_segment, count(*) AS intervals, count(DISTINCT i.vehicle_id) AS vehicles,
       sum(i.distance_km) AS distance_km, sum(i.fuel_l) AS fuel_l,
       CASE WHEN sum(i.distance_km) > 0 THEN 100 * sum(i.fuel_l) / sum(i.distance_km) END AS fuel_l_per_100km
FROM shipped i
JOIN weather w ON w.city = i.city AND w.observation_hour = date_trunc('hour', i.ts) AND NOT w.is_missing
LEFT JOIN customers c ON c.customer_id = i.customer_id
GROUP BY ALL
"""


def daily_path(database: Path, raw: Path, contracts: Mapping[str, Mapping[str, Any]], days: Sequence[str], cities: Sequence[str]) -> dict[str, Any]:
    """Runs every step into `database`; returns each step's seconds and counts, and the KPI rows."""
    con = duckdb.connect(str(database))
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}

    def step(name: str, action) -> None:
        started = time.perf_counter()
        counts[name] = action()
        con.execute("CHECKPOINT")  # the tables on disk, as a job's commit
        timings[name] = time.perf_counter() - started

    step("telematics", lambda: telematics(con, raw / "raw/iot/telematics", contracts["telematics"]))
    step("cdc", lambda: {"shipments": current_state(con, "shipments", raw / "raw/legacy_sql/shipments", contracts["shipments"]),
                         "customers": current_state(con, "customers", raw / "raw/crm/customers", contracts["customers"])})
    step("weather", lambda: weather(con, raw / "raw/weather/weather", contracts["weather"], days, cities))
    step("aggregation", lambda: {"kpi_rows": con.execute(KPI_SQL).execute("SELECT count(*) FROM telemetry_metrics").fetchone()[0]})
    kpi = con.execute("SELECT * FROM telemetry_metrics ORDER BY ALL").fetchall()
    con.close()
    return {"timings": timings, "counts": counts, "kpi": kpi}


def kpi_seconds(con: duckdb.DuckDBPyConnection, repeats: int = 5) -> list[float]:
    """Seconds of the KPI step alone, `repeats` times, over processed tables (or views) in `con`."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        con.execute(KPI_SQL)
        seconds.append(time.perf_counter() - started)
    return seconds


def kpi_plan(con: duckdb.DuckDBPyConnection) -> str:
    """EXPLAIN ANALYZE of the KPI's query: each operator with its rows and time."""
    query = KPI_SQL.split(" AS\n", 1)[1]
    return con.execute(f"EXPLAIN ANALYZE {query}").fetchall()[0][1]
