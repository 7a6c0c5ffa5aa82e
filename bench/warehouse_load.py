"""The warehouse's daily load on a local PostgreSQL 15 (Redshift's stand-in) at the processing
benchmark's sizes: one KPI date of N intervals in the lake's staging tables (vehicles, shipments,
customers with a segment change, hourly weather for the cities), loaded by the daily load
(warehouse/load/, one transaction) and timed; rows/s are interval facts written per second. The
staging rows are generated in PostgreSQL itself (generate_series), so the figure is the load's,
not the generator's. Each size runs on a fresh database; the load runs twice and both times are
printed (the second replaces the first's rows: the rerun's cost).

Usage: .venv/bin/python bench/warehouse_load.py [sizes=1008000,5040000]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "engines"))
import warehouse_sql  # noqa: E402
from local_postgres import LocalPostgres  # noqa: E402

DAY = "2026-11-21"
CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla"]


def fill(conn, intervals: int) -> None:
    """One day of a fleet: 5,000 vehicles, each on one shipment of one of 2,500 customers (half of
    whom change segment at noon), intervals spread over the day's driving hours, 2% without a
    shipment and the weather of every city and hour."""
    vehicles = 5000
    with conn.transaction():
        conn.execute("""INSERT INTO staging_processed.customers__history
            SELECT 'C' || c, 'name', 'enterprise', 'ES', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01', 'I', TIMESTAMP '2026-01-01' FROM generate_series(1, 2500) c
            UNION ALL SELECT 'C' || c, 'name', 'mid_market', 'ES', TIMESTAMP '2026-01-01', TIMESTAMP '2026-11-21 12:00', 'U', TIMESTAMP '2026-11-21 12:00'
            FROM generate_series(1, 2500, 2) c""")
        conn.execute(f"""INSERT INTO staging_processed.shipments
            SELECT 'S' || v, 'C' || (1 + v % 2500), 'V' || v, (ARRAY{CITIES})[1 + v % 4], 'Toledo', TIMESTAMP '2026-11-21 05:00', TIMESTAMP '2026-11-21 23:00', 1000, 'delivered'
            FROM generate_series(1, {vehicles}) v""")
        conn.execute(f"""INSERT INTO staging_processed.weather
            SELECT c, TIMESTAMP '2026-11-21' + h * INTERVAL '1 hour', 15, 0, 10, 0, 'clear', 'Medium', FALSE
            FROM unnest(ARRAY{CITIES}) c, generate_series(0, 23) h""")
        conn.execute(f"""INSERT INTO staging_aggregated.fuel_intervals
            SELECT 'V' || v, TIMESTAMP '2026-11-21 06:00' + ((i / {vehicles}) % 43200) * INTERVAL '1 second', DATE '{DAY}',
                   CASE WHEN i % 50 = 0 THEN NULL ELSE 'S' || v END, CASE WHEN i % 50 = 0 THEN NULL ELSE 'C' || (1 + v % 2500) END,
                   CASE WHEN i % 50 = 0 THEN NULL ELSE (ARRAY{CITIES})[1 + v % 4] END, 'Medium', 'clear', 'enterprise', 0.5, 0.15,
                   CASE WHEN i % 50 = 0 THEN 'no_shipment' ELSE 'in_kpi' END
            FROM (SELECT i, 1 + i % {vehicles} AS v FROM generate_series(0, {intervals - 1}) i) g""")
        conn.execute(f"INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES (DATE '{DAY}', TIMESTAMP '2026-11-22 02:00')")
    conn.execute("ANALYZE")


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1008000,5040000").split(",")]
    pg = LocalPostgres.start()
    results = []
    try:
        for n in sizes:
            database = f"bench_{n}"
            pg.create_database(database)
            with pg.connect(database) as conn:
                warehouse_sql.migrate(conn)
                fill(conn, n)
                started = time.perf_counter()
                log = warehouse_sql.load(conn)[DAY]
                first = time.perf_counter() - started
                started = time.perf_counter()
                warehouse_sql.load(conn, DAY)
                rerun = time.perf_counter() - started
                if log["intervals"] != n:
                    raise AssertionError(f"expected {n} interval facts, the load wrote {log['intervals']}")
            results.append({"rows": n, "loadSeconds": round(first, 2), "rerunSeconds": round(rerun, 2), "rowsPerSecond": round(n / first)})
            print(f"warehouse load, {n:,} intervals of one day on PostgreSQL 15: {first:.1f} s ({n / first:,.0f} rows/s); rerun {rerun:.1f} s")
    finally:
        pg.stop()
    print(json.dumps({"bench": "warehouse-load", "results": results}))


if __name__ == "__main__":
    main()
