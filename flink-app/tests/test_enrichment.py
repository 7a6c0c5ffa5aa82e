"""The enrichment SQL on a local PyFlink mini cluster, filesystem sources standing in for Kinesis.

Each test writes readings and device updates as JSON lines, in the order they "arrive", runs the
job's own statements (enrichment/sql.py) and compares every output row with rows written out by
hand. Device updates are written as DMS puts them on the stream: its Kinesis record, in the
envelope its documentation gives (data and metadata; record-type, operation, schema-name,
table-name, timestamp, partition-key-type, transaction-id), with DMS's ISO 8601 times in UTC.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

try:
    import pyflink  # noqa: F401
except ImportError as error:  # a missing engine fails the run with the fix, never skips
    raise ImportError("apache-flink is not installed: run 'npm run setup' (scripts/setup.sh) to install requirements-dev.txt") from error

from enrichment import contracts, sql  # noqa: E402
from enrichment.local import run_on_files  # noqa: E402


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def write_lines(directory: Path, rows: list[dict]) -> str:
    directory.mkdir(parents=True)
    (directory / "part-0.json").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(directory)


def read_lines(directory: Path) -> list[dict]:
    rows = [json.loads(line) for f in sorted(directory.rglob("*")) if f.is_file() and not f.name.startswith(".") for line in f.read_text().splitlines()]
    for row in rows:
        row["ts"] = utc(row["ts"])
    return sorted(rows, key=lambda r: (r["reading_id"], r["ts"]))


def run_job(tmp_path: Path, readings: list[dict], devices: list[dict], readings_max_delay_seconds: int = 60) -> tuple[list[dict], list[dict]]:
    """(enriched readings, rejected readings), each sorted by reading_id and ts."""
    run_on_files(
        write_lines(tmp_path / "readings", readings),
        write_lines(tmp_path / "devices", devices),
        str(tmp_path / "enriched"),
        str(tmp_path / "rejected"),
        readings_max_delay_seconds=readings_max_delay_seconds,
    )
    return read_lines(tmp_path / "enriched"), read_lines(tmp_path / "rejected")


def run_enrichment(tmp_path: Path, readings: list[dict], devices: list[dict]) -> list[dict]:
    """The enriched readings of a run in which nothing may be rejected."""
    enriched_rows, rejected = run_job(tmp_path, readings, devices)
    assert rejected == []
    return enriched_rows


def reading(reading_id: str, sensor_id: str, ts: str, value: float, metric: str = "temperature") -> dict:
    return {"reading_id": reading_id, "sensor_id": sensor_id, "ts": ts, "metric": metric, "value": value, "unit": "C"}


def dms_record(row: dict | None, operation: str, record_type: str = "data", table: str = "device_versions", schema: str = "registry") -> dict:
    """A record as DMS's Kinesis target writes it (MessageFormat json-unformatted: one line)."""
    metadata = {
        "timestamp": "2026-11-21T11:59:59.123456Z",
        "record-type": record_type,
        "operation": operation,
        "partition-key-type": "attribute-name" if record_type == "data" else "task-id",
        "schema-name": schema,
        "table-name": table,
    }
    if operation != "load" and record_type == "data":
        metadata["transaction-id"] = 87978110091475
    return {"metadata": metadata} if row is None else {"data": row, "metadata": metadata}


def device(sensor_id: str, version: int, vehicle_id: str, updated_at: str, scale: float, offset: float, operation: str = "insert") -> dict:
    """One version of a sensor's device record, a row of registry.device_versions, as DMS streams it."""
    return dms_record(
        {
            "sensor_id": sensor_id,
            "version": version,
            "vehicle_id": vehicle_id,
            "sensor_type": "thermo-x",
            "calibration_offset": offset,
            "calibration_scale": scale,
            "updated_at": updated_at,
        },
        operation,
    )


def enriched(reading_id, sensor_id, vehicle_id, ts, raw, calibrated, version, status, metric="temperature", sensor_type="thermo-x"):
    return {
        "reading_id": reading_id,
        "sensor_id": sensor_id,
        "vehicle_id": vehicle_id,
        "sensor_type": sensor_type if vehicle_id else None,
        "ts": utc(ts),
        "metric": metric,
        "raw_value": raw,
        "unit": "C",
        "calibrated_value": calibrated,
        "device_version": version,
        "enrichment_status": status,
    }


DEVICES = [device("s1", 1, "v-100", "2026-11-21T09:00:00.000Z", scale=1.5, offset=-2.0)]


def test_duplicates_keep_the_first_arrival(tmp_path):
    readings = [
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 10.0),
        reading("r2", "s1", "2026-11-21T10:01:00.000Z", 20.0),
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 99.0),  # a later copy that differs: dropped
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 10.0),
        reading("r2", "s1", "2026-11-21T10:01:00.000Z", 20.0),
    ]
    assert run_enrichment(tmp_path, readings, DEVICES) == [
        enriched("r1", "s1", "v-100", "2026-11-21T10:00:00Z", 10.0, 13.0, 1, "CALIBRATED"),
        enriched("r2", "s1", "v-100", "2026-11-21T10:01:00Z", 20.0, 28.0, 1, "CALIBRATED"),
    ]


def test_out_of_order_device_updates_apply_by_their_own_time(tmp_path):
    devices = [
        # version 2 arrives first, version 1 after it: each still applies from its own updated_at
        device("s1", 2, "v-200", "2026-11-21T10:30:00.000Z", scale=2.0, offset=0.0),
        device("s1", 1, "v-100", "2026-11-21T10:00:00.000Z", scale=1.0, offset=1.0),
    ]
    readings = [
        reading("r-early", "s1", "2026-11-21T09:50:00.000Z", 5.0),
        reading("r-v1", "s1", "2026-11-21T10:15:00.000Z", 5.0),
        reading("r-v2", "s1", "2026-11-21T10:45:00.000Z", 5.0),
    ]
    assert run_enrichment(tmp_path, readings, devices) == [
        # before the first version existed there was no device record
        enriched("r-early", "s1", None, "2026-11-21T09:50:00Z", 5.0, None, None, "NO_DEVICE_RECORD"),
        enriched("r-v1", "s1", "v-100", "2026-11-21T10:15:00Z", 5.0, 6.0, 1, "CALIBRATED"),
        enriched("r-v2", "s1", "v-200", "2026-11-21T10:45:00Z", 5.0, 10.0, 2, "CALIBRATED"),
    ]


def test_a_sensor_without_device_record_is_kept_and_flagged(tmp_path):
    readings = [
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 4.0),
        reading("r9", "s-unknown", "2026-11-21T10:00:30.000Z", 7.5, metric="pressure"),
    ]
    assert run_enrichment(tmp_path, readings, DEVICES) == [
        enriched("r1", "s1", "v-100", "2026-11-21T10:00:00Z", 4.0, 4.0, 1, "CALIBRATED"),
        enriched("r9", "s-unknown", None, "2026-11-21T10:00:30Z", 7.5, None, None, "NO_DEVICE_RECORD", metric="pressure"),
    ]


def test_the_query_output_matches_the_enriched_contract():
    enriched_contract = contracts.contract(contracts.ENRICHED)
    selected = [line.strip().rstrip(",").split(" AS ")[-1].split(".")[-1] for line in sql.ENRICHMENT_QUERY.split("FROM")[0].splitlines()[1:]]
    selected = [s.split()[-1] for s in selected]
    assert selected == [c["name"] for c in enriched_contract["columns"]]


# --- Recalibrations, late readings, conflicting copies, device-update formats --------------------

def recalibration(updated_at: str) -> list[dict]:
    return [device("s1", 1, "v-100", "2026-11-21T09:00:00.000Z", scale=1.0, offset=0.0), device("s1", 2, "v-100", updated_at, scale=2.0, offset=0.0)]


def traffic(first: str, count: int) -> list[dict]:
    """Readings of another sensor, one a second from `first` (10:mm:ss): what moves the readings'
    watermark on. Its first reading jumps the watermark, as a sensor-pull batch does."""
    minute, second = (int(x) for x in first.split(":"))
    start = minute * 60 + second
    return [reading(f"t{i:03d}", "s-traffic", f"2026-11-21T10:{(start + i) // 60:02d}:{(start + i) % 60:02d}.000Z", 1.0) for i in range(count)]


def for_sensor(rows: list[dict], sensor_id: str = "s1") -> list[dict]:
    return [r for r in rows if r["sensor_id"] == sensor_id]


# The device file is tiny and the readings file is not: its reader ends first, so its watermark no
# longer holds the join's back, as on a stream whose device updates are rare (the idle timeout).
FILLER = [reading(f"f{i:05d}", "s-filler", "2026-11-21T09:58:00.000Z", 1.0) for i in range(20000)]


def test_a_reading_seconds_before_a_recalibration_in_the_same_minute_keeps_its_version(tmp_path):
    """The audit's minimal case: v1 at 09:00, v2 at 10:00:30; readings at 09:59:50 (r0) and 10:00:10
    (r1), in time; then a batch whose first reading jumps the watermark (60 s delay) from 09:59:10 to
    10:00:35, past the recalibration, before r1's minute is over. A deduplication that held r1 until
    its minute closed handed it to the join after v1 was gone: NO_DEVICE_RECORD."""
    readings = [*FILLER, reading("r0", "s1", "2026-11-21T09:59:50.000Z", 1.0), reading("r1", "s1", "2026-11-21T10:00:10.000Z", 1.0),
                *traffic("01:35", 40), reading("r2", "s1", "2026-11-21T10:02:10.000Z", 1.0)]
    enriched_rows, rejected = run_job(tmp_path, readings, recalibration("2026-11-21T10:00:30.000Z"))
    assert rejected == []
    assert for_sensor(enriched_rows) == [
        enriched("r0", "s1", "v-100", "2026-11-21T09:59:50Z", 1.0, 1.0, 1, "CALIBRATED"),
        enriched("r1", "s1", "v-100", "2026-11-21T10:00:10Z", 1.0, 1.0, 1, "CALIBRATED"),
        enriched("r2", "s1", "v-100", "2026-11-21T10:02:10Z", 1.0, 2.0, 2, "CALIBRATED"),
    ]
    assert len(enriched_rows) == len(readings)


def test_a_reading_at_updated_at_takes_the_new_version_and_one_ms_before_the_old(tmp_path):
    readings = [*FILLER, reading("r-before", "s1", "2026-11-21T10:00:29.999Z", 1.0), reading("r-at", "s1", "2026-11-21T10:00:30.000Z", 1.0),
                *traffic("01:45", 30)]
    enriched_rows, _ = run_job(tmp_path, readings, recalibration("2026-11-21T10:00:30.000Z"))
    assert for_sensor(enriched_rows) == [
        enriched("r-at", "s1", "v-100", "2026-11-21T10:00:30Z", 1.0, 2.0, 2, "CALIBRATED"),
        enriched("r-before", "s1", "v-100", "2026-11-21T10:00:29.999Z", 1.0, 1.0, 1, "CALIBRATED"),
    ]


def test_late_readings_go_to_the_rejected_output_with_their_reason(tmp_path):
    readings = [
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 1.0),
        reading("r2", "s1", "2026-11-21T10:05:00.000Z", 1.0),  # the watermark moves to 10:04:00
        reading("r-late", "s1", "2026-11-21T10:03:59.000Z", 1.0),  # behind it: late
        reading("r-in-time", "s1", "2026-11-21T10:04:01.000Z", 1.0),  # within the minute's delay: enriched
        reading("r-late", "s1", "2026-11-21T10:03:59.000Z", 1.0),  # its copy: a duplicate of a rejected reading
        reading("r1", "s1", "2026-11-21T10:00:00.000Z", 1.0),  # a late copy of a kept reading: a duplicate, not late
    ]
    enriched_rows, rejected = run_job(tmp_path, readings, DEVICES)
    assert [r["reading_id"] for r in enriched_rows] == ["r-in-time", "r1", "r2"]
    reason = ["late: ts is more than 60 s behind the newest reading seen (readingsMaxDelaySeconds)"]
    assert rejected == [
        {"reading_id": "r-late", "sensor_id": "s1", "ts": utc("2026-11-21T10:03:59Z"), "metric": "temperature", "value": 1.0, "unit": "C", "quarantine_reasons": reason},
    ]


def test_copies_with_another_ts_keep_the_first_arrival_and_reject_the_others(tmp_path):
    readings = [
        reading("r1", "s1", "2026-11-21T10:00:10.000Z", 1.0),
        reading("r1", "s1", "2026-11-21T10:00:20.000Z", 5.0),  # another ts: rejected, naming the kept ts
        reading("r1", "s1", "2026-11-21T10:00:10.000Z", 1.0),  # a plain copy: dropped
        reading("r1", "s1", "2026-11-21T10:00:20.000Z", 5.0),  # the same conflicting copy again: rejected once
        reading("r2", "s1", "2026-11-21T10:00:30.000Z", 2.0),
        reading("r3", "s1", "2026-11-21T10:00:40.250Z", 3.0),
        reading("r3", "s1", "2026-11-21T10:00:40.750Z", 3.0),  # the same second, another millisecond: a conflicting copy too
    ]
    enriched_rows, rejected = run_job(tmp_path, readings, DEVICES)
    assert [(r["reading_id"], r["ts"], r["raw_value"]) for r in enriched_rows] == [
        ("r1", utc("2026-11-21T10:00:10Z"), 1.0), ("r2", utc("2026-11-21T10:00:30Z"), 2.0), ("r3", utc("2026-11-21T10:00:40.250Z"), 3.0),
    ]
    assert [(r["reading_id"], r["ts"], r["quarantine_reasons"]) for r in rejected] == [
        ("r1", utc("2026-11-21T10:00:20Z"), ["conflicting copy: reading_id already seen with ts 2026-11-21 10:00:10.000"]),
        ("r3", utc("2026-11-21T10:00:40.750Z"), ["conflicting copy: reading_id already seen with ts 2026-11-21 10:00:40.250"]),
    ]


def test_device_updates_in_epoch_milliseconds_fail_naming_the_field(tmp_path):
    """The contract's updated_at is an ISO-8601 timestamp; epoch milliseconds are refused."""
    devices = [{**DEVICES[0], "data": {**DEVICES[0]["data"], "updated_at": 1763715600000}}]
    with pytest.raises(Exception) as raised:
        run_job(tmp_path, [reading("r1", "s1", "2026-11-21T10:00:00.000Z", 1.0)], devices)
    assert "updated_at" in str(raised.value)


def test_dms_full_load_then_changes_apply_and_control_records_carry_no_row(tmp_path):
    """DMS's full load (operation load), then CDC inserts; its control records (a task's start,
    a table's creation) have no data and change nothing; times with and without a fraction."""
    devices = [
        dms_record(None, "create-table", record_type="control", table="awsdms_apply_exceptions", schema=""),
        device("s1", 1, "v-100", "2026-11-21T09:00:00Z", scale=1.0, offset=0.0, operation="load"),
        device("s2", 1, "v-200", "2026-11-21T09:00:00.500000Z", scale=2.0, offset=0.0, operation="load"),
        dms_record(None, "create-table", record_type="control", table="device_versions"),
        device("s1", 2, "v-100", "2026-11-21T10:00:00.123456Z", scale=1.0, offset=5.0),
    ]
    readings = [
        reading("r3", "s2", "2026-11-21T09:00:00.499Z", 1.0),
        reading("r4", "s2", "2026-11-21T09:00:00.500Z", 1.0),
        reading("r1", "s1", "2026-11-21T09:30:00.000Z", 1.0),
        reading("r2", "s1", "2026-11-21T10:00:00.123Z", 1.0),
    ]
    assert run_enrichment(tmp_path, readings, devices) == [
        enriched("r1", "s1", "v-100", "2026-11-21T09:30:00Z", 1.0, 1.0, 1, "CALIBRATED"),
        enriched("r2", "s1", "v-100", "2026-11-21T10:00:00.123Z", 1.0, 6.0, 2, "CALIBRATED"),
        enriched("r3", "s2", None, "2026-11-21T09:00:00.499Z", 1.0, None, None, "NO_DEVICE_RECORD"),
        enriched("r4", "s2", "v-200", "2026-11-21T09:00:00.500Z", 1.0, 2.0, 1, "CALIBRATED"),
    ]


def test_a_replayed_cdc_record_changes_nothing(tmp_path):
    """A task restarted from an earlier position, or a full load run again, puts versions the
    stream has already seen: each is the same (sensor_id, version) at the same time, so every
    reading keeps the version it had."""
    first = [
        device("s1", 1, "v-100", "2026-11-21T09:00:00Z", scale=1.0, offset=0.0, operation="load"),
        device("s1", 2, "v-100", "2026-11-21T10:00:00Z", scale=1.0, offset=5.0),
    ]
    readings = [reading("r1", "s1", "2026-11-21T09:30:00.000Z", 1.0), reading("r2", "s1", "2026-11-21T10:30:00.000Z", 1.0)]
    expected = [
        enriched("r1", "s1", "v-100", "2026-11-21T09:30:00Z", 1.0, 1.0, 1, "CALIBRATED"),
        enriched("r2", "s1", "v-100", "2026-11-21T10:30:00Z", 1.0, 6.0, 2, "CALIBRATED"),
    ]
    assert run_enrichment(tmp_path / "once", readings, first) == expected
    replayed = [*first, device("s1", 1, "v-100", "2026-11-21T09:00:00Z", scale=1.0, offset=0.0), *first]
    assert run_enrichment(tmp_path / "replayed", readings, replayed) == expected


def test_updates_deletes_and_other_tables_are_not_applied(tmp_path):
    """The history is append-only (the registry refuses an update or delete of it) and DMS streams
    that table alone: a record with another operation or of another table is not a version. The
    daily job quarantines its raw copy with the reason (glue-scripts tests: test_keyed)."""
    devices = [
        device("s1", 1, "v-100", "2026-11-21T09:00:00Z", scale=1.0, offset=0.0, operation="load"),
        device("s1", 1, "v-999", "2026-11-21T09:10:00Z", scale=9.0, offset=9.0, operation="update"),
        device("s1", 1, "v-100", "2026-11-21T09:00:00Z", scale=1.0, offset=0.0, operation="delete"),
        dms_record({**device("s1", 2, "v-666", "2026-11-21T09:20:00Z", 6.0, 6.0)["data"]}, "insert", table="device_versions_old"),
    ]
    readings = [reading("r1", "s1", "2026-11-21T09:30:00.000Z", 1.0)]
    assert run_enrichment(tmp_path, readings, devices) == [enriched("r1", "s1", "v-100", "2026-11-21T09:30:00Z", 1.0, 1.0, 1, "CALIBRATED")]
