"""The summary of each vehicle-day's last reading that the telematics job keeps (issue 17,
docs/decisions.md 159): it holds what the readings hold after every run, and a run that cannot
trust it (a failure between the readings' commit and the summary's, a table older than the
summary) rebuilds it from the readings before using it.

The fleet: v1 reports at 00:00 and 23:55 every day, so each day's first interval starts at the
day before's 23:55 reading, 5 minutes and 5 km earlier; v2 reports at 10:00 and 10:05. The expected summary is worked out from
the readings sent, in Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from lakehouse import pipelines, vehicle_days
from lakehouse.contracts import contract_of, load_contracts
from test_late_data import Lake
from test_pipelines import epoch_ms, write_ndjson

CONTRACTS = load_contracts()
CONTRACT = contract_of(CONTRACTS, "telematics")
FIRST = date(2026, 11, 21)


def day(n: int) -> str:
    return str(FIRST + timedelta(days=n - 1))


def readings(n: int) -> list[dict]:
    """Day n's readings: v1's counters grow 5 km and 1 l per 5 minutes, day after day."""
    rows = []
    for vehicle, times in (("v1", ("00:00", "23:55")), ("v2", ("10:00", "10:05"))):
        for i, hhmm in enumerate(times):
            ts = f"{day(n)} {hhmm}:00"
            step = 2 * n + i
            rows.append({"vehicle_id": vehicle, "ts": epoch_ms(ts), "latitude": 40.4, "longitude": -3.7, "speed_kmh": 50.0, "odometer_km": 1000.0 + 5 * step,
                         "fuel_used_l": 100.0 + step, "load_kg": 5000.0, "engine_temp_c": 90.0, "ingested_at": epoch_ms(ts) + 500})
    return rows


class Fleet:
    def __init__(self, spark, tmp_path):
        self.spark, self.tmp_path = spark, tmp_path
        self.lake = Lake(spark, tmp_path)
        self.table = self.lake.tables["telematics"]
        self.sent: list[dict] = []

    def run(self, n: int, rows: list[dict] | None = None) -> pipelines.RunStats:
        rows = readings(n) if rows is None else rows
        folder = write_ndjson(self.tmp_path / f"batch-{n}-{len(self.sent)}", rows)
        self.sent += rows  # before the run: a run that fails after its readings' commit still wrote them
        return pipelines.run_telematics(self.spark, CONTRACT, folder, self.table, self.lake.quarantine, day(n))

    def expected_summary(self) -> list[tuple]:
        """Each vehicle-day's last reading, with its counters: of a key's copies, the first
        ingested (the first sent at equal times), as DESIGN.md's deduplication keeps."""
        kept: dict[tuple, dict] = {}
        for r in self.sent:
            key = (r["vehicle_id"], r["ts"])
            if key not in kept or r["ingested_at"] < kept[key]["ingested_at"]:
                kept[key] = r
        last: dict[tuple, dict] = {}
        for r in kept.values():
            vehicle_day = (r["vehicle_id"], str(datetime.utcfromtimestamp(r["ts"] / 1000).date()))
            if vehicle_day not in last or r["ts"] > last[vehicle_day]["ts"]:
                last[vehicle_day] = r
        return sorted((v, d, str(datetime.utcfromtimestamp(r["ts"] / 1000)), r["odometer_km"], r["fuel_used_l"]) for (v, d), r in last.items())

    def summary(self) -> list[tuple]:
        rows = self.spark.table(vehicle_days.table_of(self.table)).collect()
        return sorted((r["vehicle_id"], str(r["day"]), str(r["last_ts"]), r["last_odometer_km"], r["last_fuel_used_l"]) for r in rows)

    def interval(self, vehicle: str, ts: str) -> tuple:
        r = self.spark.table(self.table).where(f"vehicle_id = '{vehicle}' AND ts = TIMESTAMP '{ts}'").first()
        return r["interval_status"], r["distance_km"], r["interval_seconds"]


def test_the_summary_holds_each_vehicle_days_last_reading_after_every_run(spark, tmp_path):
    fleet = Fleet(spark, tmp_path)
    assert fleet.run(1).details["vehicle_days_rebuilt"] == 1  # the first run builds it, from an empty table
    assert fleet.summary() == fleet.expected_summary()
    stats = fleet.run(2)
    assert stats.details["vehicle_days_rebuilt"] == 0
    assert fleet.summary() == fleet.expected_summary()
    # Day 3 brings a late v2 reading of day 1 (later than its last), a copy of a day-2 reading, two
    # copies of vehicle-days' last readings with other counters, and a reading of a new month's day
    # (2026-12-01, day 11): three months' worth of rows to keep right. The copy of v1's last
    # reading of day 1 was ingested before the table's (batches delivered out of order) and wins;
    # the copy of v2's last of day 2 was ingested after it and loses. The summary must carry the
    # winner's counters, which neither the latest ts nor the batch's own readings tell.
    late = {**readings(1)[3], "ts": epoch_ms(f"{day(1)} 10:10:00"), "odometer_km": 1012.0, "ingested_at": epoch_ms(f"{day(3)} 08:00:00")}
    v1_last, v2_last = readings(1)[1], readings(2)[3]
    earlier_copy = {**v1_last, "odometer_km": v1_last["odometer_km"] - 1, "fuel_used_l": 300.0, "ingested_at": v1_last["ingested_at"] - 100}
    later_copy = {**v2_last, "odometer_km": 3000.0, "fuel_used_l": 400.0, "ingested_at": v2_last["ingested_at"] + 100}
    december = readings(11)[:1]
    stats = fleet.run(3, [*readings(3), late, readings(2)[0], earlier_copy, later_copy, *december])
    # three copies of keys the table held (no new reading); earlier_copy replaces the table's row
    assert (stats.details["vehicle_days_rebuilt"], stats.details["duplicates"]) == (0, 3)
    assert fleet.summary() == fleet.expected_summary()
    assert ("v2", day(1), f"{day(1)} 10:10:00", 1012.0, 103.0) in fleet.summary()
    assert ("v1", day(1), f"{day(1)} 23:55:00", v1_last["odometer_km"] - 1, 300.0) in fleet.summary()
    assert ("v2", day(2), f"{day(2)} 10:05:00", v2_last["odometer_km"], v2_last["fuel_used_l"]) in fleet.summary()
    # v1's first reading of day 3 follows day 2's 23:55, found on the summary
    assert fleet.interval("v1", f"{day(3)} 00:00:00") == ("ok", 5.0, 300)


def test_a_run_that_failed_between_its_two_commits_is_followed_by_a_rebuild(spark, tmp_path, monkeypatch):
    fleet = Fleet(spark, tmp_path)
    for n in (1, 2, 3):
        fleet.run(n)

    def crash(*_args, **_kwargs):
        raise RuntimeError("the job was stopped after the readings' commit")

    with monkeypatch.context() as patched:
        patched.setattr(vehicle_days, "save", crash)
        with pytest.raises(RuntimeError):
            fleet.run(4)
    assert spark.table(fleet.table).where(f"to_date(ts) = DATE '{day(4)}'").count() == 4  # day 4's readings were committed
    assert fleet.summary() != fleet.expected_summary()  # and the summary misses them

    # Day 5, not a retry of day 4: v1's first reading of day 5 follows day 4's 23:55, which only
    # the readings hold. On the stale summary its predecessor would be day 3's 23:55, a gap.
    stats = fleet.run(5)
    assert stats.details["vehicle_days_rebuilt"] == 1
    assert fleet.interval("v1", f"{day(5)} 00:00:00") == ("ok", 5.0, 300)
    assert fleet.summary() == fleet.expected_summary()
    assert fleet.run(6).details["vehicle_days_rebuilt"] == 0  # rebuilt once, trusted again


def test_a_compaction_keeps_the_summary_and_a_table_without_one_gets_it_built(spark, tmp_path):
    fleet = Fleet(spark, tmp_path)
    for n in (1, 2):
        fleet.run(n)
    catalog, qualified = fleet.table.split(".", 1)
    spark.sql(f"CALL {catalog}.system.rewrite_data_files(table => '{qualified}', options => map('rewrite-all', 'true'))").collect()
    operation = spark.sql(f"SELECT operation FROM {fleet.table}.snapshots ORDER BY committed_at DESC LIMIT 1").first()[0]
    assert operation == "replace"  # the same rows in other files
    stats = fleet.run(3)
    assert stats.details["vehicle_days_rebuilt"] == 0
    assert fleet.interval("v1", f"{day(3)} 00:00:00") == ("ok", 5.0, 300)

    # A readings table written before the summary existed (the deployment that brings it)
    spark.sql(f"DROP TABLE {vehicle_days.table_of(fleet.table)}")
    stats = fleet.run(4)
    assert stats.details["vehicle_days_rebuilt"] == 1
    assert fleet.interval("v1", f"{day(4)} 00:00:00") == ("ok", 5.0, 300)
    assert fleet.summary() == fleet.expected_summary()
