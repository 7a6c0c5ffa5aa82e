"""Late and corrected data reach the KPI: the daily pipeline (CDC, telematics, weather, then the
aggregation) on local Spark with Iceberg, day by day as the state machine runs it, with changes
that arrive in a later day's folder. Every expected row is worked out by hand in the test.

The fleet of every test: vehicle v1 reports every 5 minutes on 2026-11-21 from 10:00 to 10:30,
its odometer +5 km and its fuel +1 l per reading: six intervals (10:05 .. 10:30) of 5 km and 1 l,
20 l/100 km, after the day's first reading. Shipment s1 (customer c1, enterprise) takes v1 from
Madrid, 09:00 to 12:00. Weather at 10:00: Madrid 5 °C clear (Low), Bilbao 15 °C rain (Medium).
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lakehouse import pipelines
from lakehouse.contracts import contract_of, load_contracts

CONTRACTS = load_contracts()
T = datetime.fromisoformat
D1, D2, D3, D4 = "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"
CITIES = ["Madrid", "Bilbao"]
SHIPMENT_COLUMNS = "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp"
CUSTOMER_COLUMNS = "customer_id string, customer_name string, segment string, country_code string, created_at timestamp, updated_at timestamp, Op string, commit_ts timestamp"
_namespaces = itertools.count()


def reading(minute: int, day: str = D1) -> dict[str, Any]:
    ts = int(T(f"{day} 10:{minute:02d}:00").replace(tzinfo=timezone.utc).timestamp() * 1000)
    step = minute // 5
    return {"vehicle_id": "v1", "ts": ts, "latitude": 40.4, "longitude": -3.7, "speed_kmh": 60.0, "odometer_km": 1000.0 + 5 * step,
            "fuel_used_l": 100.0 + step, "load_kg": 0.0, "engine_temp_c": 90.0, "ingested_at": ts + 1000}


def shipment(op: str, commit: str, origin: str = "Madrid", arrive: str | None = f"{D1} 12:00:00", shipment_id: str = "s1") -> tuple:
    return (shipment_id, "c1", "v1", origin, "Sevilla", f"{D1} 09:00:00", arrive, 1000.0, "in_transit", op, T(commit))


def customer(op: str, commit: str, segment: str = "enterprise") -> tuple:
    created = T("2026-01-01 00:00:00")
    return ("c1", "Customer 1", segment, "ES", created, created, op, T(commit))


def weather(city: str, hour: str, temperature: float, condition: str) -> dict[str, Any]:
    return {"city": city, "observation_hour": hour, "temperature_c": temperature, "precipitation_mm": 0.0, "wind_speed_kmh": 10.0, "weather_code": 0,
            "condition": condition, "latitude": 40.4, "longitude": -3.7}


MADRID_10 = weather("Madrid", f"{D1}T10:00:00Z", 5.0, "clear")
BILBAO_10 = weather("Bilbao", f"{D1}T10:00:00Z", 15.0, "rain")
ALL_READINGS = [reading(m) for m in range(0, 31, 5)]


class Lake:
    """One namespace of processed and aggregated tables, and the raw folders of each day's batch."""

    def __init__(self, spark, root: Path, horizon_days: int = 7):
        self.spark = spark
        self.root = root
        self.horizon_days = horizon_days
        n = next(_namespaces)
        self.tables = pipelines.kpi_input_tables(f"lake.late_processed_{n}")
        self.metrics = f"lake.late_aggregated_{n}.telemetry_metrics"
        self.quarantine = str(root / "quarantine")

    def run_day(self, day: str, telemetry=(), shipments=(), customers=(), observations=()) -> pipelines.KpiRun:
        """The sources of one ingest date (each job only when its folder has files, as the local run
        does), then the aggregation for that day."""
        folder = self.root / day
        if customers:
            path = str(folder / "customers")
            self.spark.createDataFrame(list(customers), CUSTOMER_COLUMNS).coalesce(1).write.mode("overwrite").parquet(path)
            pipelines.run_cdc(self.spark, "customers", contract_of(CONTRACTS, "customers"), path, self.tables["customers"], self.quarantine, day)
        if shipments:
            path = str(folder / "shipments")
            self.spark.createDataFrame(list(shipments), SHIPMENT_COLUMNS).coalesce(1).write.mode("overwrite").parquet(path)
            pipelines.run_cdc(self.spark, "shipments", contract_of(CONTRACTS, "shipments"), path, self.tables["shipments"], self.quarantine, day)
        if telemetry:
            path = self._ndjson(folder / "telemetry", telemetry)
            pipelines.run_telematics(self.spark, contract_of(CONTRACTS, "telematics"), path, self.tables["telematics"], self.quarantine, day)
        if observations:
            path = self._ndjson(folder / "weather", observations)
            pipelines.run_weather(self.spark, contract_of(CONTRACTS, "weather"), path, self.tables["weather"], self.quarantine, day, CITIES)
        return self.aggregate(day)

    def aggregate(self, day: str, backfill_from: str | None = None) -> pipelines.KpiRun:
        return pipelines.run_aggregation(self.spark, self.tables, self.metrics, day, self.horizon_days, backfill_from=backfill_from)

    def kpi(self) -> list[tuple]:
        columns = ("metric_date", "city", "temp_range", "weather_condition", "customer_segment", "intervals", "vehicles", "distance_km", "fuel_l", "fuel_l_per_100km")
        return [tuple(r) for r in self.spark.table(self.metrics).select(*columns).orderBy(*columns).collect()]

    def ledger(self) -> list[tuple]:
        return [tuple(r) for r in self.spark.table(self.tables["changed_dates"]).select("metric_date", "customer_id").orderBy("metric_date").collect()]

    @staticmethod
    def _ndjson(folder: Path, rows) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part-0.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return str(folder)


def row(city: str, temp_range: str, condition: str, segment: str, intervals: int, metric_date: str = D1) -> tuple:
    """A KPI row of v1's intervals: each 5 km and 1 l, so 20 l/100 km."""
    return (date.fromisoformat(metric_date), city, temp_range, condition, segment, intervals, 1, 5.0 * intervals, pytest.approx(1.0 * intervals), pytest.approx(20.0))


def test_readings_of_a_day_delivered_in_the_next_days_folder(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=ALL_READINGS[:5], shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 4)]
    late = lake.run_day(D2, telemetry=ALL_READINGS[5:])  # 10:25 and 10:30, uploaded the next morning
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]
    assert late.lists["dates_recomputed"] == [D1, D2]
    assert late.outcomes_by_date[D1] == {"in_kpi": 6, "first_reading": 1}
    assert lake.ledger() == []  # consumed


def test_a_shipments_arrival_delivered_the_next_day(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    first = lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00", arrive=None)], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10])
    assert lake.kpi() == []  # under way: no arrival yet, so no interval belongs to it
    assert first.outcomes_by_date[D1] == {"no_shipment": 6, "first_reading": 1}
    lake.run_day(D2, shipments=[shipment("U", f"{D2} 00:30:00")])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]


def test_a_shipments_origin_city_corrected_two_days_later(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10, BILBAO_10])
    lake.run_day(D2)
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]
    lake.run_day(D3, shipments=[shipment("U", f"{D3} 08:00:00", origin="Bilbao")])
    assert lake.kpi() == [row("Bilbao", "Medium", "rain", "enterprise", 6)]


def test_a_shipment_deleted_after_its_day_was_aggregated(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]
    deleted = lake.run_day(D2, shipments=[(*shipment("D", f"{D2} 09:00:00")[:9], "D", T(f"{D2} 09:00:00"))])
    assert lake.kpi() == []
    assert deleted.outcomes_by_date[D1] == {"no_shipment": 6, "first_reading": 1}


def test_a_late_weather_hour(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    first = lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")],
                         observations=[weather("Madrid", f"{D1}T09:00:00Z", 4.0, "clear")])
    assert lake.kpi() == []
    assert first.outcomes_by_date[D1] == {"no_weather": 6, "first_reading": 1}
    # Madrid's 10:00 observation arrives in the next day's folder: taken for its own day, and the
    # flagged gap it fills is replaced; D2's own hours are all missing and flagged.
    lake.run_day(D2, observations=[MADRID_10])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]
    hours = spark.table(lake.tables["weather"]).where("city = 'Madrid' AND NOT is_missing").select("observation_hour").orderBy("observation_hour").collect()
    assert [r[0] for r in hours] == [T(f"{D1} 09:00:00"), T(f"{D1} 10:00:00")]
    # a rerun of D1's folder does not flag the late hour missing again
    lake.run_day(D1, observations=[weather("Madrid", f"{D1}T09:00:00Z", 4.0, "clear")])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]


def test_a_shipment_that_departed_before_the_recomputed_days_still_holds_their_intervals(spark, tmp_path):
    """The aggregation reads only the shipments that overlap the dates it recomputes: one that
    departed the day before them and arrives during them is one of those."""
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=[reading(0)], shipments=[shipment("I", f"{D1} 08:00:00", arrive=f"{D2} 12:00:00")], customers=[customer("I", f"{D1} 00:00:00")],
                 observations=[MADRID_10])
    # D2's first reading follows D1's by a day: a gap, not one of the six
    run = lake.run_day(D2, telemetry=[reading(m, D2) for m in range(0, 31, 5)], observations=[weather("Madrid", f"{D2}T10:00:00Z", 5.0, "clear")])
    assert run.lists["dates_recomputed"] == [D2]  # the shipment departed on D1, outside them
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6, metric_date=D2)]


def test_a_change_beyond_the_horizon_is_counted_and_left_for_a_backfill(spark, tmp_path):
    lake = Lake(spark, tmp_path, horizon_days=2)
    lake.run_day(D1, telemetry=ALL_READINGS[:5], shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10])
    # D4's batch holds two of D1's readings: three days late, one beyond the horizon of two.
    late = lake.run_day(D4, telemetry=ALL_READINGS[5:])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 4)]  # unchanged
    assert late.details["dates_beyond_horizon"] == 1
    assert late.lists["dates_beyond_horizon"] == [D1]
    assert D1 not in late.lists["dates_recomputed"]
    # Reported again by the next daily run until a backfill recomputes it...
    assert lake.aggregate(D4).lists["dates_beyond_horizon"] == [D1]
    backfill = lake.aggregate(D4, backfill_from=D1)
    assert backfill.lists["dates_recomputed"] == [D1, D2, D3, D4]
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]
    # ...after which nothing is pending.
    assert lake.ledger() == []
    assert lake.aggregate(D4).details["dates_beyond_horizon"] == 0
    with pytest.raises(ValueError, match="inverted"):
        lake.aggregate(D1, backfill_from=D4)


def test_a_rerun_of_the_same_day_changes_nothing(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    sources = dict(telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")], customers=[customer("I", f"{D1} 00:00:00")], observations=[MADRID_10])
    first = lake.run_day(D1, **sources)
    kpi = lake.kpi()
    again = lake.run_day(D1, **sources)
    assert lake.kpi() == kpi == [row("Madrid", "Low", "clear", "enterprise", 6)]
    assert again.outcomes_by_date == first.outcomes_by_date
    assert spark.table(lake.tables["telematics"]).count() == 7


def test_the_segment_is_the_one_valid_at_the_intervals_time(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")],
                 customers=[customer("I", f"{D1} 00:00:00"), customer("U", f"{D1} 10:12:00", segment="mid_market")], observations=[MADRID_10])
    # 10:05 and 10:10 before the change; 10:15 .. 10:30 after it
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 2), row("Madrid", "Low", "clear", "mid_market", 4)]


def test_a_customers_feed_that_starts_a_day_later_fills_the_earlier_segments(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    lake.run_day(D1, telemetry=ALL_READINGS, shipments=[shipment("I", f"{D1} 08:00:00")], observations=[MADRID_10])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "unknown", 6)]
    # The full load is committed on D2: the first version known also stands for the time before it.
    lake.run_day(D2, customers=[customer("I", f"{D2} 01:00:00")])
    assert lake.kpi() == [row("Madrid", "Low", "clear", "enterprise", 6)]


def test_a_copy_delivered_in_a_later_batch_is_a_duplicate_and_keeps_the_first_arrival(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    contract = contract_of(CONTRACTS, "telematics")
    first = Lake._ndjson(tmp_path / "t1", ALL_READINGS[:3])
    copy = {**ALL_READINGS[2], "ingested_at": ALL_READINGS[2]["ingested_at"] + 86_400_000}
    second = Lake._ndjson(tmp_path / "t2", [copy, copy, ALL_READINGS[3]])
    pipelines.run_telematics(spark, contract, first, lake.tables["telematics"], lake.quarantine, D1)
    stats = pipelines.run_telematics(spark, contract, second, lake.tables["telematics"], lake.quarantine, D2)
    assert (stats.read, stats.written, stats.details["duplicates"]) == (3, 1, 2)
    kept = spark.table(lake.tables["telematics"]).where(f"ts = timestamp'{D1} 10:10:00'").select("ingested_at").collect()
    assert [r[0] for r in kept] == [datetime.fromtimestamp(ALL_READINGS[2]["ingested_at"] / 1000, timezone.utc).replace(tzinfo=None)]
