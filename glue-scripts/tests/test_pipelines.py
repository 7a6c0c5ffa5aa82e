"""The jobs' pipelines on local Spark with Iceberg: raw files in the raw zone's layout in, Iceberg
tables out; reruns must not change a table."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lakehouse import pipelines
from lakehouse.contracts import contract_of, load_contracts

CONTRACTS = load_contracts()
T = datetime.fromisoformat


def table_rows(spark, table, *columns):
    return [tuple(r) for r in spark.table(table).select(*columns).orderBy(*columns).collect()]


def write_dms_parquet(spark, folder: Path, rows, schema):
    spark.createDataFrame(rows, schema).coalesce(1).write.mode("overwrite").parquet(str(folder))
    return str(folder)


CUSTOMERS = "customer_id string, customer_name string, segment string, country_code string, created_at timestamp, updated_at timestamp, Op string, commit_ts timestamp"


def test_cdc_merge_latest_change_wins_deletes_remove_and_reruns_change_nothing(spark, tmp_path):
    contract = contract_of(CONTRACTS, "customers")
    table = "lake.processed_cdc.customers"
    c = T("2026-11-01 00:00:00")
    day1 = write_dms_parquet(spark, tmp_path / "raw/crm/customers/2026-11-20", [
        ("c1", "Acme", "enterprise", "ES", c, c, "I", T("2026-11-20 10:00:00")),
        ("c2", "Beta", "small_business", "ES", c, c, "I", T("2026-11-20 10:00:00")),
    ], CUSTOMERS)
    day2 = write_dms_parquet(spark, tmp_path / "raw/crm/customers/2026-11-21", [
        ("c1", "Acme Corp", "enterprise", "ES", c, c, "U", T("2026-11-21 09:00:00")),
        ("c2", None, None, None, None, None, "D", T("2026-11-21 09:30:00")),
        ("c1", "Acme", "enterprise", "ES", c, c, "I", T("2026-11-20 10:00:00")),  # a late duplicate of day 1's insert
        ("c3", "Gamma", "public_sector", "FR", c, c, "I", T("2026-11-21 08:00:00")),
        ("c4", "Bad", "nope", "FR", c, c, "I", T("2026-11-21 08:00:00")),
    ], CUSTOMERS)
    quarantine = str(tmp_path / "quarantine")
    pipelines.run_cdc(spark, "customers", contract, day1, table, quarantine, "2026-11-20")
    stats = pipelines.run_cdc(spark, "customers", contract, day2, table, quarantine, "2026-11-21")
    expected = [("c1", "Acme Corp", T("2026-11-21 09:00:00")), ("c3", "Gamma", T("2026-11-21 08:00:00"))]
    assert table_rows(spark, table, "customer_id", "customer_name", "commit_ts") == expected
    assert (stats.read, stats.written, stats.quarantined) == (5, 3, 1)
    quarantined = [json.loads(line) for f in (tmp_path / "quarantine/customers/ingest_date=2026-11-21").glob("*.json") for line in f.read_text().splitlines()]
    assert [(q["customer_id"], q["quarantine_reasons"]) for q in quarantined] == [("c4", ["segment: 'nope' is not allowed"])]
    # replaying both days, in either order, changes nothing
    pipelines.run_cdc(spark, "customers", contract, day2, table, quarantine, "2026-11-21")
    pipelines.run_cdc(spark, "customers", contract, day1, table, quarantine, "2026-11-20")
    assert table_rows(spark, table, "customer_id", "customer_name", "commit_ts") == expected


SHIPMENTS = "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp"


def test_cdc_quarantine_count_is_every_row_read_that_is_not_a_valid_change(spark, tmp_path):
    """The run counts its quarantine as the rows read less the valid changes (no pass of its own):
    each broken row is counted once, whatever rules it breaks, and the count equals the rows listed."""
    contract = contract_of(CONTRACTS, "shipments")
    c = T("2026-11-21 09:00:00")
    batch = write_dms_parquet(spark, tmp_path / "raw/legacy_sql/shipments/2026-11-21", [
        ("s1", "c1", "v1", "Madrid", "Lisbon", "2026-11-20 08:00:00", "2026-11-20 12:00:00", 100.0, "delivered", "I", c),
        ("s1", "c1", "v1", "Madrid", "Lisbon", "2026-11-20 08:00:00", "2026-11-20 13:00:00", 100.0, "delivered", "U", T("2026-11-21 10:00:00")),
        ("s5", None, None, None, None, None, None, None, None, "D", c),  # a delete needs its key and commit time alone
        ("s2", "c1", "v2", "Madrid", "Lisbon", "not a time", None, 100.0, "in_transit", "I", c),  # unparseable, so departed_at is missing too: two reasons
        ("s3", "c1", "v3", "Madrid", "Lisbon", "2026-11-20 08:00:00", None, -5.0, "lost", "I", c),  # two rules broken: one row
        ("s4", "c1", "v4", "Madrid", "Lisbon", "2026-11-20 08:00:00", None, 100.0, "in_transit", "X", c),
        (None, "c1", "v6", "Madrid", "Lisbon", "2026-11-20 08:00:00", None, 100.0, "in_transit", "I", c),
    ], SHIPMENTS)
    stats = pipelines.run_cdc(spark, "shipments", contract, batch, "lake.processed_qcount.shipments", str(tmp_path / "quarantine"), "2026-11-21")
    listed = [json.loads(line) for f in (tmp_path / "quarantine/shipments/ingest_date=2026-11-21").glob("*.json") for line in f.read_text().splitlines()]
    # (JSON lines leave a null out: the row without a key has no shipment_id)
    assert sorted((q.get("shipment_id", ""), len(q["quarantine_reasons"])) for q in listed) == [("", 1), ("s2", 2), ("s3", 2), ("s4", 1)]
    # two keys' latest changes written (s1's update, s5's delete); four rows quarantined, as listed
    assert (stats.read, stats.written, stats.quarantined) == (7, 2, 4)


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def write_ndjson(folder: Path, rows) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(folder)


def reading(ts: str, odo: float, fuel: float) -> dict:
    return {"vehicle_id": "v1", "ts": epoch_ms(ts), "latitude": 40.4, "longitude": -3.7, "speed_kmh": 50.0,
            "odometer_km": odo, "fuel_used_l": fuel, "load_kg": 5000.0, "engine_temp_c": 90.0, "ingested_at": epoch_ms(ts) + 500}


def test_telematics_rerun_is_idempotent_and_a_late_reading_fixes_its_neighbours(spark, tmp_path):
    contract = contract_of(CONTRACTS, "telematics")
    table = "lake.processed_tel.telematics"
    quarantine = str(tmp_path / "quarantine")
    batch1 = write_ndjson(tmp_path / "raw/iot/telematics/ingest_date=2026-11-21/ingest_hour=10", [
        reading("2026-11-21 10:00:00", 100.0, 10.0), reading("2026-11-21 10:10:00", 110.0, 12.0), reading("2026-11-21 10:10:00", 110.0, 12.0),
    ])
    pipelines.run_telematics(spark, contract, batch1, table, quarantine, "2026-11-21")
    pipelines.run_telematics(spark, contract, batch1, table, quarantine, "2026-11-21")
    assert table_rows(spark, table, "ts", "distance_km", "interval_status") == [
        (T("2026-11-21 10:00:00"), None, "first_reading"),
        (T("2026-11-21 10:10:00"), 10.0, "ok"),
    ]
    # a reading that arrives late, between the two: both intervals around it change
    late = write_ndjson(tmp_path / "raw/iot/telematics/ingest_date=2026-11-22/ingest_hour=00", [reading("2026-11-21 10:04:00", 104.0, 10.8)])
    pipelines.run_telematics(spark, contract, late, table, quarantine, "2026-11-22")
    assert table_rows(spark, table, "ts", "distance_km", "fuel_l", "interval_status") == [
        (T("2026-11-21 10:00:00"), None, None, "first_reading"),
        (T("2026-11-21 10:04:00"), 4.0, pytest.approx(0.8), "ok"),
        (T("2026-11-21 10:10:00"), 6.0, pytest.approx(1.2), "ok"),
    ]


def test_a_rerun_that_rejects_nothing_removes_the_days_quarantine(spark, tmp_path):
    """The quarantine lists what the day's last run rejected: a rerun after the bad reading was
    replaced leaves no stale list behind (it used to keep the earlier run's folder)."""
    contract = contract_of(CONTRACTS, "telematics")
    table = "lake.processed_requarantine.telematics"
    quarantine = tmp_path / "quarantine"
    folder = tmp_path / "raw/iot/telematics/ingest_date=2026-11-21/ingest_hour=10"
    bad = {**reading("2026-11-21 10:05:00", 105.0, 10.5), "speed_kmh": -5.0}
    write_ndjson(folder, [reading("2026-11-21 10:00:00", 100.0, 10.0), bad])
    first = pipelines.run_telematics(spark, contract, str(folder.parent), table, str(quarantine), "2026-11-21")
    listed = quarantine / "telematics" / "ingest_date=2026-11-21"
    assert first.quarantined == 1 and [json.loads(line)["quarantine_reasons"] for f in listed.glob("*.json") for line in f.read_text().splitlines()] == [
        ["speed_kmh: -5.0 is below the minimum 0"]]
    write_ndjson(folder, [reading("2026-11-21 10:00:00", 100.0, 10.0), reading("2026-11-21 10:05:00", 105.0, 10.5)])
    rerun = pipelines.run_telematics(spark, contract, str(folder.parent), table, str(quarantine), "2026-11-21")
    assert (rerun.quarantined, rerun.written) == (0, 1)
    # Both readings' intervals recomputed, the table's as well as the new one's, on one day.
    assert {k: v for k, v in rerun.details.items() if k.startswith(("intervals_", "kpi_"))} == {"intervals_first_reading": 1, "intervals_ok": 1, "kpi_dates_recorded": 1}
    assert not listed.exists()
    assert not (quarantine / "telematics" / "unreadable_objects" / "ingest_date=2026-11-21").exists()


def observation(city: str, hour: str, temperature: float, condition: str = "clear") -> dict:
    return {"city": city, "observation_hour": hour, "temperature_c": temperature, "precipitation_mm": 0.0, "wind_speed_kmh": 10.0,
            "weather_code": 0, "condition": condition, "latitude": 40.4, "longitude": -3.7}


def test_a_weather_range_run_writes_what_its_daily_runs_write(spark, tmp_path):
    """A reload of three days in one run (first_day .. day) against the same three folders run day
    by day: the same table, the same rows quarantined; by hand: 3 days x 24 hours x 2 cities, the
    two hours no folder holds flagged missing, the late hour of day 1 (in day 2's folder) taken."""
    contract, cities = contract_of(CONTRACTS, "weather"), ["Madrid", "Bilbao"]
    days = ["2026-11-21", "2026-11-22", "2026-11-23"]
    raw = tmp_path / "raw/weather/weather"
    hours = lambda day, skip=(): [observation(c, f"{day}T{h:02d}:00:00Z", 5.0 + h) for c in cities for h in range(24) if (c, h) not in skip]  # noqa: E731
    write_ndjson(raw / f"ingest_date={days[0]}", hours(days[0], skip={("Madrid", 3), ("Bilbao", 7)}))
    write_ndjson(raw / f"ingest_date={days[1]}", [*hours(days[1], skip={("Bilbao", 20)}), observation("Madrid", f"{days[0]}T03:00:00Z", 30.0),
                                                  observation("Lisbon", f"{days[1]}T10:00:00Z", 12.0), {**observation("Madrid", f"{days[1]}T11:00:00Z", 99.0)}])
    write_ndjson(raw / f"ingest_date={days[2]}", hours(days[2], skip={("Madrid", 0)}))
    folders = [str(raw / f"ingest_date={d}") for d in days]

    daily_table, range_table = "lake.processed_weather_daily.weather", "lake.processed_weather_range.weather"
    daily = [pipelines.run_weather(spark, contract, folder, daily_table, str(tmp_path / "q_daily"), day, cities) for folder, day in zip(folders, days)]
    ranged = pipelines.run_weather(spark, contract, folders, range_table, str(tmp_path / "q_range"), days[-1], cities, first_day=days[0])

    columns = [c["name"] for c in contract["columns"]] + ["is_missing", "temp_range"]
    assert table_rows(spark, range_table, *columns) == table_rows(spark, daily_table, *columns)
    assert spark.table(range_table).count() == 3 * 24 * 2
    assert [tuple(r) for r in spark.table(range_table).where("is_missing").select("city", "observation_hour").orderBy("observation_hour").collect()] == [
        ("Bilbao", T("2026-11-21 07:00:00")), ("Bilbao", T("2026-11-22 20:00:00")), ("Madrid", T("2026-11-23 00:00:00"))]
    assert spark.table(range_table).where("city = 'Madrid' AND observation_hour = '2026-11-21 03:00:00'").select("temperature_c").first()[0] == 30.0
    assert ranged.read == sum(d.read for d in daily) == 3 * 48 - 4 + 3  # four hours held back, three extra rows in day 2's folder
    assert ranged.quarantined == sum(d.quarantined for d in daily) == 2  # Lisbon, not configured; 99 °C, above the maximum
    assert ranged.details["missing_hours"] == 3 and ranged.details["rows_for_other_days"] == 0
    assert sorted(json.loads(line)["city"] for f in (tmp_path / "q_range/weather/ingest_date=2026-11-21..2026-11-23").glob("*.json")
                  for line in f.read_text().splitlines()) == ["Lisbon", "Madrid"]
    ledger = spark.table("lake.processed_weather_range.kpi_changed_dates")
    assert sorted({(str(r["metric_date"]), r["ingest_date"]) for r in ledger.collect()}) == [(d, "2026-11-21..2026-11-23") for d in days]


def test_a_weather_range_run_fails_on_a_missing_day_folder_and_an_inverted_range(spark, tmp_path):
    """A day of the range without a folder fails the run, as that day's daily run fails; nothing is written."""
    contract, raw = contract_of(CONTRACTS, "weather"), tmp_path / "raw/weather/weather"
    write_ndjson(raw / "ingest_date=2026-11-21", [observation("Madrid", "2026-11-21T10:00:00Z", 5.0)])
    table = "lake.processed_weather_gap.weather"
    folders = [str(raw / f"ingest_date={d}") for d in ("2026-11-21", "2026-11-22")]
    with pytest.raises(Exception, match="does not exist"):
        pipelines.run_weather(spark, contract, folders, table, str(tmp_path / "q"), "2026-11-22", ["Madrid"], first_day="2026-11-21")
    assert not spark.catalog.tableExists(table)
    with pytest.raises(ValueError, match="inverted"):
        pipelines.run_weather(spark, contract, folders[:1], table, str(tmp_path / "q"), "2026-11-20", ["Madrid"], first_day="2026-11-21")


def test_a_batch_spanning_two_days_links_them_once(spark, tmp_path):
    contract = contract_of(CONTRACTS, "telematics")
    table = "lake.processed_tel2.telematics"
    batch = write_ndjson(tmp_path / "raw/iot/telematics/two-days", [
        reading("2026-11-21 23:55:00", 100.0, 10.0), reading("2026-11-22 00:05:00", 108.0, 11.0), reading("2026-11-22 00:10:00", 112.0, 11.5),
    ])
    pipelines.run_telematics(spark, contract, batch, table, str(tmp_path / "q"), "2026-11-22")
    assert table_rows(spark, table, "ts", "distance_km", "interval_status") == [
        (T("2026-11-21 23:55:00"), None, "first_reading"),
        (T("2026-11-22 00:05:00"), 8.0, "ok"),
        (T("2026-11-22 00:10:00"), 4.0, "ok"),
    ]


def test_aggregation_rerun_gives_the_same_table(spark, tmp_path):
    tables = pipelines.kpi_input_tables("lake.agg_in")
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.agg_in")
    spark.createDataFrame(
        [("v1", T("2026-11-21 10:05:00"), 8.0, 2.0, "ok"), ("v1", T("2026-11-21 10:10:00"), 12.0, 3.0, "ok")],
        "vehicle_id string, ts timestamp, distance_km double, fuel_l double, interval_status string",
    ).writeTo(tables["telematics"]).createOrReplace()
    spark.createDataFrame([("Madrid", T("2026-11-21 10:00:00"), "High", "clear", False)], "city string, observation_hour timestamp, temp_range string, condition string, is_missing boolean").writeTo(tables["weather"]).createOrReplace()
    spark.createDataFrame([("s1", "c1", "v1", "Madrid", T("2026-11-21 10:00:00"), T("2026-11-21 11:00:00"))], "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp").writeTo(tables["shipments"]).createOrReplace()
    spark.createDataFrame([("c1", "enterprise", T("2026-11-01 00:00:00"))], "customer_id string, segment string, commit_ts timestamp").writeTo(tables["customer_versions"]).createOrReplace()
    out = "lake.aggregated_test.telemetry_metrics"
    first = pipelines.run_aggregation(spark, tables, out, "2026-11-21", horizon_days=7)
    snapshot = table_rows(spark, out, "metric_date", "city", "customer_segment", "intervals", "fuel_l_per_100km")
    assert snapshot == [(T("2026-11-21").date(), "Madrid", "enterprise", 2, 25.0)]
    pipelines.run_aggregation(spark, tables, out, "2026-11-21", horizon_days=7)
    assert table_rows(spark, out, "metric_date", "city", "customer_segment", "intervals", "fuel_l_per_100km") == snapshot
    assert first.details == {"in_kpi": 2, "dates_recomputed": 1, "dates_beyond_horizon": 0}
    # every interval, attributed, beside the KPI (the warehouse's interval grain), replaced by the rerun too
    intervals = table_rows(spark, "lake.aggregated_test.fuel_intervals", "vehicle_id", "ts", "metric_date", "shipment_id", "customer_id", "city",
                           "temp_range", "weather_condition", "customer_segment", "distance_km", "fuel_l", "outcome")
    assert intervals == [
        ("v1", T("2026-11-21 10:05:00"), T("2026-11-21").date(), "s1", "c1", "Madrid", "High", "clear", "enterprise", 8.0, 2.0, "in_kpi"),
        ("v1", T("2026-11-21 10:10:00"), T("2026-11-21").date(), "s1", "c1", "Madrid", "High", "clear", "enterprise", 12.0, 3.0, "in_kpi"),
    ]
    # each run records the dates it recomputed, for the warehouse's load
    assert [r[0] for r in table_rows(spark, "lake.aggregated_test.kpi_recomputed_dates", "metric_date")] == [T("2026-11-21").date()] * 2


def test_maintenance_compacts_small_files_and_expires_snapshots(spark):
    table = "lake.maintenance_test.events"
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.maintenance_test")
    spark.sql(f"CREATE TABLE {table} (id bigint) USING iceberg TBLPROPERTIES ('format-version' = '2')")
    for i in range(5):  # five commits, five small files
        spark.sql(f"INSERT INTO {table} VALUES ({i})")
    files_before = spark.sql(f"SELECT count(*) FROM {table}.files").collect()[0][0]
    stats = pipelines.run_maintenance(spark, [table], snapshot_retention_days=0)
    assert files_before == 5
    assert stats.details == {"maintenance_test.events.files_rewritten": 5}
    assert spark.sql(f"SELECT count(*) FROM {table}.files").collect()[0][0] == 1
    assert spark.sql(f"SELECT count(*) FROM {table}.snapshots").collect()[0][0] == 1
    assert sorted(r[0] for r in spark.table(table).collect()) == [0, 1, 2, 3, 4]
