"""The pipeline of a source with no logic of its own (lakehouse.keyed, pipeline "keyed"), on local
Spark with Iceberg: contract checks, one row per key, MERGE; with and without a version column;
the ugly cases (exact copies, conflicting copies, an older re-delivery, a rerun, a field no row
carried) each with the rows expected by hand."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from lakehouse import pipelines
from lakehouse.contracts import load_contract_file

# An API-pulled dataset as a new source would declare it: station readings, keyed by station and hour.
CONTRACT = {
    "dataset": "air_quality",
    "source": "air",
    "description": "Hourly air quality per station",
    "key": ["station", "hour"],
    "columns": [
        {"name": "station", "type": "string", "required": True, "description": "d"},
        {"name": "hour", "type": "timestamp", "required": True, "description": "d"},
        {"name": "pm25", "type": "double", "required": True, "min": 0, "max": 1000, "description": "d"},
        {"name": "band", "type": "string", "allowed": ["good", "fair", "poor"], "description": "d"},
        {"name": "measured_at", "type": "timestamp", "required": True, "description": "d"},
    ],
    "raw": {"writer": "lambda", "format": "json", "partitions": [{"name": "ingest_date", "type": "date"}]},
    "processed": {"partitioning": [{"column": "hour", "transform": "day"}]},
}


def versioned() -> dict:
    contract = copy.deepcopy(CONTRACT)
    contract["processed"]["versionColumn"] = "measured_at"
    return contract


def write_ndjson(folder: Path, rows: list[dict], gzipped: bool = False) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if gzipped:
        (folder / "part-0.json.gz").write_bytes(gzip.compress(text.encode()))
    else:
        (folder / "part-0.json").write_text(text)
    return str(folder)


def row(station: str, hour: str, pm25, measured_at: str, band: str | None = "good") -> dict:
    out = {"station": station, "hour": f"2026-11-20T{hour}:00:00Z", "pm25": pm25, "measured_at": f"2026-11-20T{measured_at}Z"}
    if band is not None:
        out["band"] = band
    return out


def rows_of(spark, table):
    return sorted((r["station"], r["hour"].strftime("%H"), r["pm25"], r["measured_at"].strftime("%H:%M:%S")) for r in spark.table(table).collect())


def quarantined(tmp_path: Path, dataset: str = "air_quality") -> list[dict]:
    folder = tmp_path / "quarantine" / dataset
    return [json.loads(line) for f in sorted(folder.rglob("*.json")) for line in f.read_text().splitlines()]


def test_the_fixture_contracts_pass_the_loader(tmp_path):
    for i, contract in enumerate((CONTRACT, versioned())):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "air.air_quality.json").write_text(json.dumps(contract))
        assert load_contract_file(folder / "air.air_quality.json")["processed"] == contract["processed"]


def test_without_a_version_column_copies_collapse_conflicts_are_quarantined_and_the_next_batch_wins(spark, tmp_path):
    table = "lake.processed_keyed.air_plain"
    day1 = write_ndjson(tmp_path / "raw/day1", [
        row("s1", "10", 12.5, "10:05:00"),
        row("s1", "10", 12.5, "10:05:00"),             # exact copy: dropped, counted
        row("s2", "10", 30.0, "10:05:00"),
        row("s2", "10", 31.0, "10:06:00"),             # differs from the row above: both quarantined
        row("s3", "10", -4.0, "10:05:00"),             # below the minimum
        row("s4", "10", 8.0, "10:05:00", band="awful"),  # not an allowed band
        {"station": "s5", "hour": "2026-11-20T10:00:00Z", "measured_at": "2026-11-20T10:05:00Z"},  # pm25 missing
    ])
    stats = pipelines.run_keyed(spark, "air_quality", CONTRACT, day1, table, str(tmp_path / "quarantine"), "2026-11-20")
    assert (stats.read, stats.written, stats.quarantined) == (7, 1, 5)
    assert stats.details == {"duplicates": 1, "superseded": 0, "unreadable_objects": 0}
    assert rows_of(spark, table) == [("s1", "10", 12.5, "10:05:00")]
    reasons = sorted((q["station"], tuple(q["quarantine_reasons"])) for q in quarantined(tmp_path))
    assert reasons == [
        ("s2", ("station, hour: another row of the same key in this batch differs",)),
        ("s2", ("station, hour: another row of the same key in this batch differs",)),
        ("s3", ("pm25: -4.0 is below the minimum 0",)),
        ("s4", ("band: 'awful' is not allowed",)),
        ("s5", ("pm25: required",)),
    ]

    # The source re-pulls the hour with a corrected value: with no version, the later batch wins.
    day2 = write_ndjson(tmp_path / "raw/day2", [row("s1", "10", 13.0, "09:00:00")], gzipped=True)
    pipelines.run_keyed(spark, "air_quality", CONTRACT, day2, table, str(tmp_path / "quarantine"), "2026-11-21")
    assert rows_of(spark, table) == [("s1", "10", 13.0, "09:00:00")]

    # A rerun of the same day changes nothing and replaces that day's quarantine.
    again = pipelines.run_keyed(spark, "air_quality", CONTRACT, day2, table, str(tmp_path / "quarantine"), "2026-11-21")
    assert rows_of(spark, table) == [("s1", "10", 13.0, "09:00:00")] and again.quarantined == 0


def test_with_a_version_column_the_greatest_version_wins_in_the_batch_and_against_the_table(spark, tmp_path):
    table = "lake.processed_keyed.air_versioned"
    contract = versioned()
    day1 = write_ndjson(tmp_path / "raw/day1", [
        row("s1", "10", 12.0, "10:05:00"),
        row("s1", "10", 14.0, "10:20:00"),   # a later measurement of the same hour: wins
        row("s2", "10", 20.0, "10:05:00"),
        row("s2", "10", 21.0, "10:05:00"),   # same version, other value: both quarantined
    ])
    stats = pipelines.run_keyed(spark, "air_quality", contract, day1, table, str(tmp_path / "quarantine"), "2026-11-20")
    assert (stats.written, stats.quarantined, stats.details) == (1, 2, {"duplicates": 0, "superseded": 1, "unreadable_objects": 0})
    assert rows_of(spark, table) == [("s1", "10", 14.0, "10:20:00")]
    assert {tuple(q["quarantine_reasons"]) for q in quarantined(tmp_path)} == {("station, hour: another row of the same key has the same measured_at",)}

    # A late re-delivery of the older measurement does not replace the newer one; a newer one does.
    late = write_ndjson(tmp_path / "raw/day2", [row("s1", "10", 12.0, "10:05:00"), row("s2", "11", 5.0, "11:05:00")])
    pipelines.run_keyed(spark, "air_quality", contract, late, table, str(tmp_path / "quarantine"), "2026-11-21")
    assert rows_of(spark, table) == [("s1", "10", 14.0, "10:20:00"), ("s2", "11", 5.0, "11:05:00")]
    newer = write_ndjson(tmp_path / "raw/day3", [row("s1", "10", 15.5, "10:40:00")])
    pipelines.run_keyed(spark, "air_quality", contract, newer, table, str(tmp_path / "quarantine"), "2026-11-22")
    assert rows_of(spark, table) == [("s1", "10", 15.5, "10:40:00"), ("s2", "11", 5.0, "11:05:00")]


def test_a_field_no_row_carried_is_null_and_its_rules_still_apply(spark, tmp_path):
    """`band` is optional: a batch without it loads with band null; a required field missing from
    every row quarantines every row rather than failing on a missing column."""
    table = "lake.processed_keyed.air_sparse"
    no_band = write_ndjson(tmp_path / "raw/no-band", [row("s1", "10", 12.0, "10:05:00", band=None)])
    stats = pipelines.run_keyed(spark, "air_quality", CONTRACT, no_band, table, str(tmp_path / "quarantine"), "2026-11-20")
    assert stats.written == 1 and spark.table(table).first()["band"] is None
    no_pm = write_ndjson(tmp_path / "raw/no-pm", [{"station": "s9", "hour": "2026-11-20T10:00:00Z", "measured_at": "2026-11-20T10:05:00Z"}])
    stats = pipelines.run_keyed(spark, "air_quality", CONTRACT, no_pm, table, str(tmp_path / "quarantine"), "2026-11-21")
    assert (stats.written, stats.quarantined) == (0, 1)


def test_a_row_the_table_rules_refuse_fails_the_run_before_anything_is_written(spark, tmp_path):
    table = "lake.processed_keyed.air_refused"
    raw = write_ndjson(tmp_path / "raw/day1", [row("s1", "10", 12.0, "10:05:00")])

    def refuse(df, contract, target):
        raise ValueError(f"{target}: data-quality rule broken")

    with pytest.raises(ValueError, match="data-quality rule broken"):
        pipelines.run_keyed(spark, "air_quality", CONTRACT, raw, table, str(tmp_path / "quarantine"), "2026-11-20", evaluate=refuse)
    assert not spark.catalog.tableExists(table)


def test_a_day_without_a_raw_folder_is_an_empty_batch_not_a_failure(spark, tmp_path):
    """A rarely changing source (the device registry) has days its writer wrote nothing for."""
    table = "lake.processed_keyed.air_quiet"
    stats = pipelines.run_keyed(spark, "air_quality", CONTRACT, str(tmp_path / "raw/ingest_date=2026-11-20"), table, str(tmp_path / "quarantine"), "2026-11-20")
    assert (stats.read, stats.written, stats.quarantined) == (0, 0, 0)
    assert spark.table(table).count() == 0  # created, empty, for the readers that expect it


def dms(row: dict | None, operation: str, record_type: str = "data", table: str = "device_versions") -> dict:
    """A record as DMS's Kinesis target writes it (the device_updates contract's raw.envelope)."""
    metadata = {"timestamp": "2026-11-20T12:00:00.000000Z", "record-type": record_type, "operation": operation,
                "partition-key-type": "attribute-name", "schema-name": "registry", "table-name": table}
    return {"metadata": metadata} if row is None else {"data": row, "metadata": metadata}


def version(sensor: str, n, scale=1.0, at: str = "10:00:00") -> dict:
    return {"sensor_id": sensor, "version": n, "vehicle_id": "v-1", "sensor_type": "thermo", "calibration_offset": 0.0,
            "calibration_scale": scale, "updated_at": f"2026-11-20T{at}.123456Z"}


def test_device_updates_are_read_from_dms_records_and_what_is_not_a_version_is_quarantined_with_its_reason(spark, tmp_path):
    """The device_updates contract's own envelope: load and insert records are versions; control
    records carry none (counted); an update or delete of the append-only history, a record of
    another table, or a line without DMS's envelope is quarantined with its reason, as is a version
    the contract refuses; a replayed record is an exact copy (counted)."""
    contract = load_contract_file(Path(__file__).resolve().parents[2] / "contracts" / "device_registry.device_updates.json")
    table = "lake.processed_keyed.device_updates_dms"
    day = write_ndjson(tmp_path / "raw/ingest_date=2026-11-20", [
        dms(None, "create-table", record_type="control", table="awsdms_apply_exceptions"),
        dms(version("s1", 1), "load"),
        dms(version("s2", 1), "load"),
        dms(version("s1", 2, scale=1.5, at="11:00:00"), "insert"),
        dms(version("s1", 2, scale=1.5, at="11:00:00"), "insert"),            # replayed: an exact copy
        dms(version("s2", 1, scale=9.0), "update"),                             # the history is append-only
        dms(version("s2", 1), "delete"),
        dms(version("s3", 1), "insert", table="device_versions_old"),           # not the streamed table
        dms(version("s4", 1, scale=0.0), "insert"),                             # a scale the contract refuses
        dms(version("s5", "one"), "insert"),                                    # a version that is not a number
        version("s6", 1),                                                       # a row without DMS's envelope
    ], gzipped=True)
    stats = pipelines.run_keyed(spark, "device_updates", contract, day, table, str(tmp_path / "quarantine"), "2026-11-20")
    assert (stats.read, stats.written, stats.quarantined) == (11, 3, 6)
    assert stats.details == {"duplicates": 1, "superseded": 0, "control_records": 1, "unreadable_objects": 0}
    kept = sorted((r["sensor_id"], r["version"], r["calibration_scale"], r["updated_at"].strftime("%H:%M:%S.%f")) for r in spark.table(table).collect())
    assert kept == [("s1", 1, 1.0, "10:00:00.123456"), ("s1", 2, 1.5, "11:00:00.123456"), ("s2", 1, 1.0, "10:00:00.123456")]
    reasons = sorted(((q.get("sensor_id"), tuple(q["quarantine_reasons"])) for q in quarantined(tmp_path, "device_updates")), key=lambda r: (r[0] is None, r))
    assert reasons == [
        ("s2", ("DMS operation delete is not applied (raw.envelope.applied: load, insert)",)),
        ("s2", ("DMS operation update is not applied (raw.envelope.applied: load, insert)",)),
        ("s3", ("DMS record of registry.device_versions_old, not of registry.device_versions",)),
        ("s4", ("calibration_scale: 0.0 is below the minimum 1e-06",)),
        ("s5", ("version: required",)),
        (None, ("not a DMS data or control record (metadata.record-type: missing)",)),
    ]


def test_a_day_of_dms_control_records_alone_is_an_empty_batch(spark, tmp_path):
    contract = load_contract_file(Path(__file__).resolve().parents[2] / "contracts" / "device_registry.device_updates.json")
    table = "lake.processed_keyed.device_updates_quiet"
    day = write_ndjson(tmp_path / "raw/day", [dms(None, "create-table", record_type="control")])
    stats = pipelines.run_keyed(spark, "device_updates", contract, day, table, str(tmp_path / "quarantine"), "2026-11-20")
    assert (stats.read, stats.written, stats.quarantined, stats.details["control_records"]) == (1, 0, 0, 1)
    empty = pipelines.run_keyed(spark, "device_updates", contract, str(tmp_path / "raw/none"), table, str(tmp_path / "quarantine"), "2026-11-21")
    assert (empty.read, empty.written, empty.details["control_records"]) == (0, 0, 0)
