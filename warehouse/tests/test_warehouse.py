"""The warehouse's migrations and daily load on a real PostgreSQL (127.0.0.1, a throwaway cluster),
against lake rows written here by hand, with every expected star row worked out by hand.

The fleet of the fixture, 2026-11-02 (Monday) and 2026-11-03:
- customer C1 is 'enterprise' from 2026-11-01 and 'mid_market' from 2026-11-02 12:00 (a segment
  change in the middle of a day); C2 is 'small_business', first known at 2026-11-02 12:00 (an
  interval before that counts under that first version, as the lake's KPI takes it); C3 is on a
  shipment but the CRM history does not know it;
- shipments S1 (vehicle V1, C1, Madrid), S2 (V2, C2, Barcelona), S3 (V3, C3, Madrid); vehicle V4
  drives without a shipment;
- weather for Madrid and Barcelona, every hour 'Medium' and 'clear', but Madrid's 13:00 on the
  first day is missing;
- the lake's intervals (aggregated.fuel_intervals) and KPI rows (telemetry_metrics) as the
  aggregation job writes them for that data;
- the device registry's history: V1's temperature sensor recalibrated at 12:00:30 on the first day
  (version 2), V2's fuel sensor at version 1; and the enriched readings as the streaming job
  wrote them: V1's 12:00:00 reading under version 1 (seconds before the recalibration), its 12:05
  and next-day readings under version 2, a reading of a sensor with no device record, and one
  calibrated with a version 3 the lake's device history does not have yet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "engines"))
import warehouse_sql  # noqa: E402
from local_postgres import LocalPostgres  # noqa: E402

D1, D2 = "2026-11-02", "2026-11-03"

CUSTOMERS = [
    ("C1", "Acme", "enterprise", "ES", "2026-10-01 00:00", "2026-11-01 00:00", "I", "2026-11-01 00:00"),
    ("C1", "Acme", "mid_market", "ES", "2026-10-01 00:00", "2026-11-02 12:00", "U", "2026-11-02 12:00"),
    ("C2", "Bolt", "small_business", "ES", "2026-10-01 00:00", "2026-11-02 12:00", "I", "2026-11-02 12:00"),
]
SHIPMENTS = [
    ("S1", "C1", "V1", "Madrid", "Valencia", "2026-11-02 06:00", "2026-11-03 18:00", 1000.0, "delivered"),
    ("S2", "C2", "V2", "Barcelona", "Girona", "2026-11-02 06:00", "2026-11-03 18:00", 800.0, "delivered"),
    ("S3", "C3", "V3", "Madrid", "Toledo", "2026-11-02 06:00", "2026-11-02 18:00", 500.0, "delivered"),
]
WEATHER = [
    (city, f"{day} {hour:02d}:00", 15.0, 0.0, 10.0, 0, None if (city, day, hour) == ("Madrid", D1, 13) else "clear",
     None if (city, day, hour) == ("Madrid", D1, 13) else "Medium", (city, day, hour) == ("Madrid", D1, 13))
    for city in ("Madrid", "Barcelona") for day in (D1, D2) for hour in range(6, 19)
]
# vehicle, ts, metric date, shipment, customer, city, temp range, condition, segment, km, litres, outcome
INTERVALS = [
    ("V1", f"{D1} 06:00", D1, None, None, None, None, None, None, None, None, "first_reading"),
    ("V1", f"{D1} 10:00", D1, "S1", "C1", "Madrid", "Medium", "clear", "enterprise", 1.0, 0.30, "in_kpi"),
    ("V1", f"{D1} 13:30", D1, "S1", "C1", "Madrid", None, None, "mid_market", 1.0, 0.30, "no_weather"),
    ("V1", f"{D1} 14:00", D1, "S1", "C1", "Madrid", "Medium", "clear", "mid_market", 1.0, 0.32, "in_kpi"),
    ("V2", f"{D1} 10:00", D1, "S2", "C2", "Barcelona", "Medium", "clear", "small_business", 2.0, 0.50, "in_kpi"),
    ("V3", f"{D1} 10:00", D1, "S3", "C3", "Madrid", "Medium", "clear", None, 1.0, 0.40, "in_kpi"),
    ("V4", f"{D1} 10:00", D1, None, None, None, None, None, None, 1.0, 0.30, "no_shipment"),
    ("V1", f"{D2} 10:00", D2, "S1", "C1", "Madrid", "Medium", "clear", "mid_market", 1.5, 0.45, "in_kpi"),
    ("V2", f"{D2} 10:00", D2, "S2", "C2", "Barcelona", "Medium", "clear", "small_business", 2.0, 0.60, "in_kpi"),
]
# The aggregation's ledger: its first run recomputed the first day; the next day's run recomputed
# the second day and the first again (a late change).
RECOMPUTED = [(D1, "2026-11-03 02:00"), (D2, "2026-11-04 02:00"), (D1, "2026-11-04 02:00")]
METRICS = [
    (D1, "Madrid", "Medium", "clear", "enterprise", 1, 1, 1.0, 0.30),
    (D1, "Madrid", "Medium", "clear", "mid_market", 1, 1, 1.0, 0.32),
    (D1, "Barcelona", "Medium", "clear", "small_business", 1, 1, 2.0, 0.50),
    (D1, "Madrid", "Medium", "clear", "unknown", 1, 1, 1.0, 0.40),
    (D2, "Madrid", "Medium", "clear", "mid_market", 1, 1, 1.5, 0.45),
    (D2, "Barcelona", "Medium", "clear", "small_business", 1, 1, 2.0, 0.60),
]
DEVICES = [
    ("V1-temp", 1, "V1", "temp", 0.0, 1.0, "2026-11-01 00:00"),
    ("V1-temp", 2, "V1", "temp", -1.5, 1.02, f"{D1} 12:00:30"),
    ("V2-fuel", 1, "V2", "fuel", 0.0, 1.0, "2026-11-01 00:00"),
]
# reading_id, sensor, vehicle, type, ts, metric, raw, unit, calibrated, device version, status
READINGS = [
    ("rd-1", "V1-temp", "V1", "temp", f"{D1} 12:00:00", "temperature", 80.0, "C", 80.0, 1, "CALIBRATED"),
    ("rd-2", "V1-temp", "V1", "temp", f"{D1} 12:05:00", "temperature", 80.0, "C", 80.1, 2, "CALIBRATED"),
    ("rd-3", "V2-fuel", "V2", "fuel", f"{D1} 10:00:00", "fuel_level", 50.0, "pct", 50.0, 1, "CALIBRATED"),
    ("rd-4", "V9-temp", None, None, f"{D1} 10:00:00", "temperature", 20.0, "C", None, None, "NO_DEVICE_RECORD"),
    ("rd-5", "V2-fuel", "V2", "fuel", f"{D1} 11:00:00", "fuel_level", 49.0, "pct", 53.9, 3, "CALIBRATED"),
    ("rd-6", "V1-temp", "V1", "temp", f"{D2} 09:00:00", "temperature", 81.0, "C", 81.12, 2, "CALIBRATED"),
]
# The readings job's ledger: its first run added readings to the first day.
LANDED = [(D1, "2026-11-03 01:00", D1)]
C1_V1, C1_V2, C2_V1 = "C1@2026-11-01T00:00:00.000000", "C1@2026-11-02T12:00:00.000000", "C2@2026-11-02T12:00:00.000000"


@pytest.fixture(scope="module")
def postgres():
    pg = LocalPostgres.start()
    yield pg
    pg.stop()


@pytest.fixture()
def conn(postgres, request):
    """A fresh database with the migrations applied and the lake rows above in staging."""
    name = postgres.database_for_test("w", request.node.name)
    with postgres.connect(name) as c:
        warehouse_sql.migrate(c)
        with c.transaction():
            with c.cursor() as cur:
                cur.executemany("INSERT INTO staging_processed.customers__history VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", CUSTOMERS)
                cur.executemany("INSERT INTO staging_processed.shipments VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", SHIPMENTS)
                cur.executemany("INSERT INTO staging_processed.weather VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", WEATHER)
                cur.executemany("INSERT INTO staging_aggregated.fuel_intervals VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", INTERVALS)
                cur.executemany("INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES (%s,%s)", RECOMPUTED[:1])
                cur.executemany("INSERT INTO staging_processed.device_updates VALUES (%s,%s,%s,%s,%s,%s,%s)", DEVICES)
                cur.executemany("INSERT INTO staging_processed.sensor_readings_enriched VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", READINGS)
                cur.executemany("INSERT INTO staging_processed.sensor_readings_enriched__landed_dates VALUES (%s,%s,%s)", LANDED)
                cur.executemany("INSERT INTO staging_aggregated.telemetry_metrics VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s, 100 * %s / %s)",
                                [(*m, m[8], m[7]) for m in METRICS])
        yield c


def rows(conn, sql: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sql).fetchall()]


def everything(conn) -> dict[str, list[tuple]]:
    """Every row the load writes."""
    tables = ["core.dim_date", "core.dim_city", "core.dim_vehicle", "core.dim_customer", "core.dim_shipment", "core.dim_weather",
              "core.fact_fuel_interval", "core.fact_daily_fuel", "core.dim_device", "core.fact_sensor_reading"]
    out = {t: sorted(rows(conn, f"SELECT * FROM {t}"), key=repr) for t in tables}
    for log in ("core.load_log", "core.reading_load_log", "core.load_watermark", "core.readings_watermark"):
        out[log] = sorted(rows(conn, f"SELECT * FROM {log}"))
    return out


def test_migrations_run_once_in_order_and_redshift_only_sql_is_replaced_by_its_local_stand_in(postgres):
    v008 = "V008__devices_and_readings_physical_and_grants"
    assert [n for n, _ in warehouse_sql.migrations("redshift")] == [
        "V001__schemas", "V002__staging", "V003__core", "V004__physical", "V005__mart", "V006__roles", "V007__devices_and_readings", v008]
    local = warehouse_sql.migrations("postgres")
    assert [(n, p.parent.name) for n, p in local] == [
        ("V001__schemas", "migrations"), ("V002__staging", "local"), ("V003__core", "migrations"), ("V005__mart", "migrations"), ("V006__roles", "local"),
        ("V007__devices_and_readings", "migrations"), (v008, "local")]
    applied = ["V001__schemas", "V002__staging", "V003__core", "V005__mart", "V006__roles", "V007__devices_and_readings", v008]
    postgres.create_database("migrations_once")
    with postgres.connect("migrations_once") as c:
        assert warehouse_sql.migrate(c) == applied
        assert warehouse_sql.migrate(c) == []
        assert rows(c, "SELECT version FROM public.schema_migrations ORDER BY version") == [(n,) for n in applied]


def test_the_load_runs_as_the_loader_role_which_cannot_change_the_schema_the_lake_or_the_migrations(conn):
    conn.execute("SET ROLE warehouse_loader")
    try:
        assert set(warehouse_sql.load(conn)) == {D1}
        assert set(warehouse_sql.load(conn, D2)) == {D2}
        for forbidden in ["DROP TABLE core.fact_daily_fuel", "CREATE TABLE core.scratch (a INTEGER)", "TRUNCATE core.fact_fuel_interval",
                          "INSERT INTO public.schema_migrations VALUES ('V999__x', now())",
                          "INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES ('2026-11-09', now())",
                          "CREATE OR REPLACE VIEW mart.telemetry_metrics AS SELECT 1 AS a"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with conn.transaction():
                    conn.execute(forbidden)
    finally:
        conn.execute("RESET ROLE")
    assert rows(conn, "SELECT COUNT(*) FROM core.fact_fuel_interval") == [(len(INTERVALS),)]


def test_the_reader_role_reads_the_mart_and_the_star_and_writes_nothing(conn):
    warehouse_sql.load(conn)
    conn.execute("SET ROLE warehouse_reader")
    try:
        assert len(rows(conn, "SELECT * FROM mart.telemetry_metrics")) == len([m for m in METRICS if m[0] == D1])
        assert rows(conn, "SELECT COUNT(*) FROM core.dim_date") == [(1,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with conn.transaction():
                conn.execute("DELETE FROM core.fact_daily_fuel")
    finally:
        conn.execute("RESET ROLE")


def test_the_star_rows_of_a_small_fleet(conn):
    log = warehouse_sql.load(conn, D1)
    assert log == {D1: {"intervals": 7, "daily_rows": 4, "without_shipment": 1, "unknown_customer": 1, "without_weather": 1,
                        "readings": 5, "no_device_record": 1, "unknown_device_version": 1}}
    assert rows(conn, "SELECT date_key, calendar_date::text, year, month, day_of_month, iso_weekday FROM core.dim_date") == [(20261102, D1, 2026, 11, 2, 1)]
    assert rows(conn, "SELECT vehicle_id, interval_end::text, hour_of_day, shipment_id, customer_version_key, city, weather_key, customer_segment, outcome "
                      "FROM core.fact_fuel_interval ORDER BY vehicle_id, interval_end") == [
        ("V1", f"{D1} 06:00:00", 6, "unknown", "unknown", "unknown", "unknown", "unknown", "first_reading"),
        ("V1", f"{D1} 10:00:00", 10, "S1", C1_V1, "Madrid", "Madrid@2026-11-02T10", "enterprise", "in_kpi"),
        ("V1", f"{D1} 13:30:00", 13, "S1", C1_V2, "Madrid", "unknown", "mid_market", "no_weather"),
        ("V1", f"{D1} 14:00:00", 14, "S1", C1_V2, "Madrid", "Madrid@2026-11-02T14", "mid_market", "in_kpi"),
        ("V2", f"{D1} 10:00:00", 10, "S2", C2_V1, "Barcelona", "Barcelona@2026-11-02T10", "small_business", "in_kpi"),
        ("V3", f"{D1} 10:00:00", 10, "S3", "unknown", "Madrid", "Madrid@2026-11-02T10", "unknown", "in_kpi"),
        ("V4", f"{D1} 10:00:00", 10, "unknown", "unknown", "unknown", "unknown", "unknown", "no_shipment"),
    ]
    assert rows(conn, "SELECT vehicle_id FROM core.dim_vehicle ORDER BY 1") == [("V1",), ("V2",), ("V3",), ("V4",), ("unknown",)]
    assert rows(conn, "SELECT city FROM core.dim_city ORDER BY 1") == [("Barcelona",), ("Madrid",), ("unknown",)]
    assert rows(conn, "SELECT count(*), count(*) FILTER (WHERE is_missing) FROM core.dim_weather WHERE weather_key <> 'unknown'") == [(26, 1)]
    # the deleted-later shipment stays: every shipment of the lake, and the unknown member
    assert rows(conn, "SELECT shipment_id FROM core.dim_shipment ORDER BY 1") == [("S1",), ("S2",), ("S3",), ("unknown",)]


def test_a_segment_change_in_the_middle_of_a_day_is_a_second_version(conn):
    warehouse_sql.load(conn, D1)
    assert rows(conn, "SELECT customer_version_key, customer_id, segment, valid_from::text, valid_to::text, version_number, is_deleted "
                      "FROM core.dim_customer ORDER BY customer_id, version_number") == [
        (C1_V1, "C1", "enterprise", "2026-11-01 00:00:00", "2026-11-02 12:00:00", 1, False),
        (C1_V2, "C1", "mid_market", "2026-11-02 12:00:00", None, 2, False),
        (C2_V1, "C2", "small_business", "2026-11-02 12:00:00", None, 1, False),
        ("unknown", "unknown", None, "1970-01-01 00:00:00", None, 0, False),
    ]
    # the morning's interval counts under the old segment, the afternoon's under the new one
    assert rows(conn, "SELECT customer_segment, intervals, fuel_l FROM mart.fuel_by_customer_segment_daily WHERE metric_date = '2026-11-02' ORDER BY 1") == [
        ("enterprise", 1, 0.30), ("mid_market", 1, 0.32), ("small_business", 1, 0.50), ("unknown", 1, 0.40)]


def test_a_device_calibration_change_is_a_second_version_and_each_reading_keeps_the_one_applied(conn):
    warehouse_sql.load(conn, D1)
    assert rows(conn, "SELECT device_version_key, sensor_id, version, vehicle_id, calibration_scale, calibration_offset, valid_from::text, valid_to::text "
                      "FROM core.dim_device ORDER BY sensor_id, version") == [
        ("V1-temp@1", "V1-temp", 1, "V1", 1.0, 0.0, "2026-11-01 00:00:00", f"{D1} 12:00:30"),
        ("V1-temp@2", "V1-temp", 2, "V1", 1.02, -1.5, f"{D1} 12:00:30", None),
        ("V2-fuel@1", "V2-fuel", 1, "V2", 1.0, 0.0, "2026-11-01 00:00:00", None),
        ("unknown", "unknown", 0, None, None, None, "1970-01-01 00:00:00", None),
    ]
    # seconds before the recalibration: version 1; minutes after: version 2, each with its value
    assert rows(conn, "SELECT reading_id, hour_of_day, device_version_key, raw_value, calibrated_value FROM core.fact_sensor_reading "
                      "WHERE sensor_id = 'V1-temp' ORDER BY reading_ts") == [("rd-1", 12, "V1-temp@1", 80.0, 80.0), ("rd-2", 12, "V1-temp@2", 80.0, 80.1)]
    # every fact's version was valid at its reading's time
    assert rows(conn, "SELECT count(*) FROM core.fact_sensor_reading f JOIN core.dim_device d ON d.device_version_key = f.device_version_key "
                      "WHERE d.device_version_key <> 'unknown' AND NOT (d.valid_from <= f.reading_ts AND (d.valid_to IS NULL OR f.reading_ts < d.valid_to))") == [(0,)]


def test_a_reading_without_a_device_record_or_with_an_unknown_version_goes_to_the_unknown_device_and_is_counted(conn):
    log = warehouse_sql.load(conn, D1)
    assert (log[D1]["readings"], log[D1]["no_device_record"], log[D1]["unknown_device_version"]) == (5, 1, 1)
    assert rows(conn, "SELECT reading_id, vehicle_id, enrichment_status, calibrated_value FROM core.fact_sensor_reading "
                      "WHERE device_version_key = 'unknown' ORDER BY 1") == [("rd-4", "unknown", "NO_DEVICE_RECORD", None), ("rd-5", "V2", "CALIBRATED", 53.9)]
    # nothing dropped: every reading of the lake's day is a fact
    assert rows(conn, "SELECT count(*) FROM core.fact_sensor_reading") == rows(conn, f"SELECT count(*) FROM staging_processed.sensor_readings_enriched WHERE ts::date = '{D1}'")
    # once the lake's device history has version 3, a reload of the day points the reading at it
    conn.execute("INSERT INTO staging_processed.device_updates VALUES ('V2-fuel', 3, 'V2', 'fuel', 0.0, 1.1, '2026-11-02 10:30')")
    assert warehouse_sql.load(conn, D1)[D1]["unknown_device_version"] == 0
    assert rows(conn, "SELECT device_version_key FROM core.fact_sensor_reading WHERE reading_id = 'rd-5'") == [("V2-fuel@3",)]


def test_readings_that_land_late_reach_the_star_on_the_next_daily_load(conn):
    assert list(warehouse_sql.load(conn)) == [D1]
    assert rows(conn, "SELECT landed_until::text FROM core.readings_watermark") == [("2026-11-03 01:00:00",)]
    # two days later the readings job takes a reading that landed late in the first day's folder;
    # the aggregation recomputed nothing for that day, and the day is reloaded all the same
    conn.execute("INSERT INTO staging_processed.sensor_readings_enriched VALUES ('rd-7', 'V2-fuel', 'V2', 'fuel', %s, 'fuel_level', 48.0, 'pct', 48.0, 1, 'CALIBRATED')", (f"{D1} 16:00",))
    conn.execute("INSERT INTO staging_processed.sensor_readings_enriched__landed_dates VALUES (%s, '2026-11-05 01:00', '2026-11-04')", (D1,))
    assert warehouse_sql.load(conn) == {D1: {"intervals": 7, "daily_rows": 4, "without_shipment": 1, "unknown_customer": 1, "without_weather": 1,
                                             "readings": 6, "no_device_record": 1, "unknown_device_version": 1}}
    assert rows(conn, "SELECT max(landed_until)::text FROM core.readings_watermark") == [("2026-11-05 01:00:00",)]
    assert rows(conn, "SELECT device_version_key FROM core.fact_sensor_reading WHERE reading_id = 'rd-7'") == [("V2-fuel@1",)]


def test_the_mart_equals_the_lakes_telemetry_metrics_row_for_row(conn):
    for day in (D1, D2):
        warehouse_sql.load(conn, day)
    columns = "metric_date, city, temp_range, weather_condition, customer_segment, intervals, vehicles, round(distance_km::numeric, 6), round(fuel_l::numeric, 6), round(fuel_l_per_100km::numeric, 6)"
    mart = sorted(rows(conn, f"SELECT {columns} FROM mart.telemetry_metrics"))
    lake = sorted(rows(conn, f"SELECT {columns} FROM staging_aggregated.telemetry_metrics"))
    assert len(mart) == 6 and mart == lake
    # rolled up over both days: Madrid's intervals of both days, its vehicles counted once
    # (Madrid: 0.30 + 0.32 + 0.40 + 0.45 l over 1 + 1 + 1 + 1.5 km; Barcelona: 0.50 + 0.60 l over 4 km)
    assert rows(conn, "SELECT city, intervals, vehicles, round(fuel_l_per_100km::numeric, 4)::float FROM mart.fuel_by_city ORDER BY 1") == [
        ("Barcelona", 2, 1, 27.5), ("Madrid", 4, 2, 32.6667)]


def test_a_day_loaded_twice_gives_the_same_rows(conn):
    warehouse_sql.load(conn, D1)
    once = everything(conn)
    warehouse_sql.load(conn, D1)
    assert everything(conn) == once


def test_an_older_day_reloaded_after_a_later_one_gives_the_same_rows(conn):
    warehouse_sql.load(conn, D1)
    warehouse_sql.load(conn, D2)
    in_order = everything(conn)
    warehouse_sql.load(conn, D1)
    assert everything(conn) == in_order
    assert rows(conn, "SELECT date_key, intervals FROM core.load_log ORDER BY 1") == [(20261102, 7), (20261103, 2)]


def test_an_interval_whose_customer_is_unknown_goes_to_the_unknown_member_and_is_counted(conn):
    log = warehouse_sql.load(conn, D1)
    assert log[D1]["unknown_customer"] == 1
    assert rows(conn, "SELECT vehicle_id, shipment_id, customer_segment FROM core.fact_fuel_interval WHERE customer_version_key = 'unknown' AND shipment_id <> 'unknown'") == [
        ("V3", "S3", "unknown")]
    # nothing dropped: every interval of the lake's day is a fact
    assert rows(conn, "SELECT count(*) FROM core.fact_fuel_interval") == rows(conn, f"SELECT count(*) FROM staging_aggregated.fuel_intervals WHERE metric_date = '{D1}'")


def test_a_failing_statement_leaves_the_day_as_it_was(conn, monkeypatch):
    warehouse_sql.load(conn, D1)
    before = everything(conn)
    original = warehouse_sql.statements
    # the load's last statement fails: one transaction, so nothing of the rerun is kept
    monkeypatch.setattr(warehouse_sql, "statements", lambda sql: [*original(sql), "SELECT 1 / 0"])
    with pytest.raises(Exception, match="division by zero"):
        warehouse_sql.load(conn, D1)
    assert everything(conn) == before


def test_the_daily_load_takes_every_date_the_lake_recomputed_since_the_last_one(conn):
    # the first night: the ledger names the first day
    assert list(warehouse_sql.load(conn)) == [D1]
    assert rows(conn, "SELECT recomputed_until::text FROM core.load_watermark") == [("2026-11-03 02:00:00",)]
    # nothing new: nothing loaded, nothing changed
    before = everything(conn)
    assert warehouse_sql.load(conn) == {}
    assert everything(conn) == before
    # the second night recomputed the second day and, for a late change, the first: both reloaded
    conn.execute("INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES (%s, %s), (%s, %s)", [*RECOMPUTED[1], *RECOMPUTED[2]])
    assert sorted(warehouse_sql.load(conn)) == [D1, D2]
    assert rows(conn, "SELECT max(recomputed_until)::text FROM core.load_watermark") == [("2026-11-04 02:00:00",)]
    # the same as loading each day by hand
    by_hand = everything(conn)
    warehouse_sql.load(conn, D1)
    warehouse_sql.load(conn, D2)
    assert everything(conn) == by_hand


def test_a_late_correction_in_the_lake_reaches_the_star_on_the_next_load(conn):
    warehouse_sql.load(conn)
    # the lake corrects V2's interval (a late reading fixed its fuel) and recomputes the day
    conn.execute("UPDATE staging_aggregated.fuel_intervals SET fuel_l = 0.55 WHERE vehicle_id = 'V2' AND metric_date = %s", (D1,))
    conn.execute("INSERT INTO staging_aggregated.kpi_recomputed_dates VALUES (%s, %s)", (D1, "2026-11-04 02:00"))
    warehouse_sql.load(conn)
    assert rows(conn, "SELECT fuel_l FROM mart.telemetry_metrics WHERE city = 'Barcelona' AND metric_date = %s" % f"'{D1}'") == [(0.55,)]


@pytest.mark.parametrize("day", ["2026-11-2", "2026-11-02'; DROP TABLE core.dim_date; --", "2026-02-30", ""])
def test_a_day_that_is_not_a_date_is_refused_before_any_sql(day):
    with pytest.raises(ValueError):
        warehouse_sql.day_values(day)


def test_a_reload_by_hand_is_one_data_api_request_of_the_one_day_load():
    request = warehouse_sql.reload_request(D1, "tlh-dev-warehouse", "telemetry")
    assert request["WorkgroupName"] == "tlh-dev-warehouse" and request["Database"] == "telemetry"
    assert request["Sqls"] == warehouse_sql.load_statements(D1) and len(request["Sqls"]) <= 40
    assert f"DATE '{D1}'" in request["Sqls"][1]
    assert not any("load_watermark" in s and s.startswith("INSERT") for s in request["Sqls"])
    run = subprocess.run([sys.executable, str(Path(warehouse_sql.__file__)), "--day", "2026-13-02", "--workgroup", "w", "--database", "d"], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip() == "error: --day 2026-13-02: month must be in 1..12" and run.stdout == ""
