"""The enrichment SQL on a local PyFlink mini cluster, filesystem sources standing in for Kinesis.

Each test writes readings and device updates as JSON lines, in the order they "arrive", runs the
job's own statements (enrichment/sql.py) and compares every output row with rows written out by
hand.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

try:
    import pyflink  # noqa: F401
except ImportError as error:  # a missing engine fails the run with the fix, never skips
    raise ImportError("apache-flink is not installed: run 'npm run setup' (scripts/setup.sh) to install requirements-dev.txt") from error

from enrichment import contracts, sql  # noqa: E402
from enrichment.local import run_on_files  # noqa: E402


# Device updates may arrive this far out of order and still be placed by their own time.
DEVICE_UPDATES_MAX_DELAY_SECONDS = 3600


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def write_lines(directory: Path, rows: list[dict]) -> str:
    directory.mkdir(parents=True)
    (directory / "part-0.json").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(directory)


def run_enrichment(tmp_path: Path, readings: list[dict], devices: list[dict]) -> list[dict]:
    out_dir = tmp_path / "enriched"
    run_on_files(
        write_lines(tmp_path / "readings", readings),
        write_lines(tmp_path / "devices", devices),
        str(out_dir),
        readings_max_delay_seconds=60,
        device_updates_max_delay_seconds=DEVICE_UPDATES_MAX_DELAY_SECONDS,
    )
    rows = [json.loads(line) for f in sorted(out_dir.rglob("*")) if f.is_file() and not f.name.startswith(".") for line in f.read_text().splitlines()]
    for row in rows:
        row["ts"] = utc(row["ts"])
    return sorted(rows, key=lambda r: r["reading_id"])


def reading(reading_id: str, sensor_id: str, ts: str, value: float, metric: str = "temperature") -> dict:
    return {"reading_id": reading_id, "sensor_id": sensor_id, "ts": ts, "metric": metric, "value": value, "unit": "C"}


def device(sensor_id: str, version: int, vehicle_id: str, updated_at: str, scale: float, offset: float) -> dict:
    return {
        "sensor_id": sensor_id,
        "version": version,
        "vehicle_id": vehicle_id,
        "sensor_type": "thermo-x",
        "calibration_offset": offset,
        "calibration_scale": scale,
        "updated_at": updated_at,
    }


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
