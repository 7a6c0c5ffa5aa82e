"""A dataset a streaming job lands in the processed zone (pipeline "landed"): the enriched sensor
readings as Firehose lands them (Parquet under event_date=/event_hour= folders), merged daily into
their Iceberg table, on local Spark with Iceberg. The ugly cases, each with the rows expected by
hand: a reading that lands late in an older folder, an at-least-once re-delivery, a copy that
differs from the table's row, a row that breaks the contract, a day beyond the horizon, a rerun,
and a landing with no folder yet."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import Row

from lakehouse import pipelines
from lakehouse.contracts import contract_of, load_contracts, spark_ddl

CONTRACT = contract_of(load_contracts(), "sensor_readings_enriched")
HORIZON = 2


def reading(reading_id: str, ts: str, raw: float = 20.0, version: int | None = 1, metric: str = "temperature") -> dict:
    calibrated = None if version is None else raw * 1.0
    return {
        "reading_id": reading_id, "sensor_id": "veh-1-temp", "vehicle_id": None if version is None else "veh-1", "sensor_type": None if version is None else "temp",
        "ts": datetime.fromisoformat(ts).replace(tzinfo=timezone.utc), "metric": metric, "raw_value": raw, "unit": "C", "calibrated_value": calibrated,
        "device_version": version, "enrichment_status": "NO_DEVICE_RECORD" if version is None else "CALIBRATED",
    }


def land(spark, root: Path, rows: list[dict], name: str) -> None:
    """As Firehose writes them: one Parquet file per delivery in the folder of each row's date and hour."""
    frame = spark.createDataFrame([Row(**r) for r in rows], spark_ddl(CONTRACT))
    for (day, hour), _ in {(r["ts"].strftime("%Y-%m-%d"), r["ts"].strftime("%H")): 1 for r in rows}.items():
        part = frame.where(f"date_format(ts, 'yyyy-MM-dd') = '{day}' AND date_format(ts, 'HH') = '{hour}'")
        folder = root / f"event_date={day}" / f"event_hour={hour}"
        part.coalesce(1).write.mode("append").parquet(str(folder / name))


def ids(spark, table: str) -> list[str]:
    return sorted(r["reading_id"] for r in spark.table(table).select("reading_id").collect())


def ledger(spark, table: str) -> list[tuple[str, str]]:
    rows = spark.table(pipelines.landed_dates_table(table)).collect()
    return sorted((r["ingest_date"], r["event_date"].isoformat()) for r in rows)


def quarantined(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "quarantine" / "sensor_readings_enriched"
    return [json.loads(line) for f in sorted(folder.rglob("*.json")) for line in f.read_text().splitlines()]


def test_the_days_a_run_reads():
    assert pipelines.landing_days("2026-11-21", 2) == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert pipelines.landing_days("2026-03-01", 1) == ["2026-02-28", "2026-03-01"]


def test_late_landings_re_deliveries_and_bad_rows(spark, tmp_path):
    table = "lake.processed_landed.readings"
    landing = tmp_path / "landing"
    quarantine = str(tmp_path / "quarantine")

    # No folder yet (the stream has not delivered): an empty run, not a failure.
    empty = pipelines.run_landed(spark, "sensor_readings_enriched", CONTRACT, str(landing), table, quarantine, "2026-11-20", HORIZON)
    assert (empty.read, empty.written, ids(spark, table), ledger(spark, table)) == (0, 0, [], [])

    land(spark, landing, [
        reading("r1", "2026-11-20T10:00:00"),
        reading("r2", "2026-11-20T23:59:59", version=None),
        reading("r3", "2026-11-19T08:00:00"),
        reading("r-bad", "2026-11-20T11:00:00", metric="altitude"),  # not an allowed metric
        reading("r-old", "2026-11-15T08:00:00"),                      # beyond the horizon of every run below
    ], "delivery-1")
    first = pipelines.run_landed(spark, "sensor_readings_enriched", CONTRACT, str(landing), table, quarantine, "2026-11-20", HORIZON)
    assert (first.read, first.written, first.quarantined) == (4, 3, 1)
    assert first.lists["event_days_read"] == ["2026-11-18", "2026-11-19", "2026-11-20"]
    assert ids(spark, table) == ["r1", "r2", "r3"]
    assert ledger(spark, table) == [("2026-11-20", "2026-11-19"), ("2026-11-20", "2026-11-20")]
    assert [(q["reading_id"], q["quarantine_reasons"]) for q in quarantined(tmp_path)] == [("r-bad", ["metric: 'altitude' is not allowed"])]
    stored = spark.table(table).where("reading_id = 'r2'").first()
    assert (stored["enrichment_status"], stored["device_version"], stored["calibrated_value"]) == ("NO_DEVICE_RECORD", None, None)

    # The next day: r1 delivered again (at-least-once: an exact copy), r3 again but differing
    # (quarantined, the table's row kept), r4 landed late in the 19th's folder, r5 on the day.
    land(spark, landing, [
        reading("r1", "2026-11-20T10:00:00"),
        reading("r3", "2026-11-19T08:00:00", raw=99.0),
        reading("r4", "2026-11-19T09:30:00"),
        reading("r5", "2026-11-21T07:00:00"),
        reading("r6", "2026-11-21T08:00:00", raw=1.0),
        reading("r6", "2026-11-21T08:00:00", raw=2.0),  # two new copies that differ: both quarantined
    ], "delivery-2")
    second = pipelines.run_landed(spark, "sensor_readings_enriched", CONTRACT, str(landing), table, quarantine, "2026-11-21", HORIZON)
    assert (second.written, second.quarantined) == (2, 4)  # r4 and r5 in; r-bad again, the differing r3 and both r6 out
    assert second.details["duplicates"] == 1 and second.details["already_in_table"] == 3  # the copy of r1; r1, r2 and r3 as first landed
    assert ids(spark, table) == ["r1", "r2", "r3", "r4", "r5"]
    assert spark.table(table).where("reading_id = 'r3'").first()["raw_value"] == 20.0
    reasons = sorted((q["reading_id"], tuple(q["quarantine_reasons"])) for q in quarantined(tmp_path) if q["reading_id"] == "r3")
    assert reasons == [("r3", ("reading_id: differs from the row already in the table",))]
    assert [tuple(q["quarantine_reasons"]) for q in quarantined(tmp_path) if q["reading_id"] == "r6"] == [("reading_id: another row of the same key in this batch differs",)] * 2
    assert ledger(spark, table)[-2:] == [("2026-11-21", "2026-11-19"), ("2026-11-21", "2026-11-21")]

    # A rerun of the day adds nothing and records no date.
    rerun = pipelines.run_landed(spark, "sensor_readings_enriched", CONTRACT, str(landing), table, quarantine, "2026-11-21", HORIZON)
    assert (rerun.written, rerun.details["event_dates_added"]) == (0, 0)
    assert ids(spark, table) == ["r1", "r2", "r3", "r4", "r5"] and len(ledger(spark, table)) == 4
