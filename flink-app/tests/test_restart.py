"""The enrichment killed in the middle of a stream and restarted from its last checkpoint
(enrichment/restart.py): the sources read from a watched folder chunk by chunk, as a stream
brings them, so the job also meets what a bounded file run never does: both streams idle.

The expected rows are worked out here from the device versions, not by running the job."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from enrichment.restart import run_killed_and_restored
from test_enrichment import device, enriched, read_lines, reading, utc

# s1 is recalibrated at 10:00. s2's recalibration at 11:30 moves the device stream's own clock past
# 10:00 while the readings of 06:00 to 10:55 are still to come.
DEVICES = [
    device("s1", 1, "v-100", "2026-11-21T00:00:00.000Z", scale=1.0, offset=0.0),
    device("s1", 2, "v-100", "2026-11-21T10:00:00.000Z", scale=2.0, offset=0.0),
    device("s2", 1, "v-200", "2026-11-21T00:00:00.000Z", scale=1.0, offset=1.0),
    device("s2", 2, "v-200", "2026-11-21T11:30:00.000Z", scale=3.0, offset=0.0),
]
START = datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)


def stream() -> tuple[list[dict], list[dict]]:
    """(arrival order with a copy of each reading two places later, as a retried put makes one;
    the unique readings)."""
    unique = []
    for step in range(60):
        ts = (START + timedelta(minutes=5 * step)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        unique += [reading(f"s1-{step:02d}", "s1", ts, float(step)), reading(f"s2-{step:02d}", "s2", ts, float(step))]
    arrivals: list[dict] = []
    for i, row in enumerate(unique):
        arrivals.append(row)
        if i >= 2:
            arrivals.append(unique[i - 2])
    return arrivals + unique[-2:], unique


def expected(row: dict) -> dict:
    """The version in force at the reading's time, by hand."""
    ts = utc(row["ts"])
    if row["sensor_id"] == "s1":
        version, vehicle, scale, offset = (2, "v-100", 2.0, 0.0) if ts >= utc("2026-11-21T10:00:00Z") else (1, "v-100", 1.0, 0.0)
    else:
        version, vehicle, scale, offset = (2, "v-200", 3.0, 0.0) if ts >= utc("2026-11-21T11:30:00Z") else (1, "v-200", 1.0, 1.0)
    iso = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return enriched(row["reading_id"], row["sensor_id"], vehicle, iso, row["value"], row["value"] * scale + offset, version, "CALIBRATED")


def test_killed_mid_stream_and_restarted_from_its_checkpoint_loses_and_doubles_nothing(tmp_path: Path):
    arrivals, unique = stream()
    readings_file, devices_file = tmp_path / "readings.json", tmp_path / "devices.json"
    readings_file.write_text("".join(json.dumps(r) + "\n" for r in arrivals), encoding="utf-8")
    devices_file.write_text("".join(json.dumps(d) + "\n" for d in DEVICES), encoding="utf-8")

    restart = run_killed_and_restored(str(readings_file), str(devices_file), str(tmp_path / "work"), str(tmp_path / "enriched"), str(tmp_path / "rejected"),
                                      chunks=6, checkpoint_after=2, kill_after=4, readings_max_delay_seconds=60)

    enriched_rows = read_lines(tmp_path / "enriched")
    assert enriched_rows == sorted((expected(r) for r in unique), key=lambda r: (r["reading_id"], r["ts"]))
    assert read_lines(tmp_path / "rejected") == []
    # Killed mid-stream: readings read after the checkpoint were read again, and rows the killed
    # job had emitted after it were emitted again (on AWS, Firehose delivers those twice).
    assert restart.readings_read_again == len(arrivals) * 2 // 6
    assert len(restart.redelivered["enriched"]) > 0
    # What was delivered before the kill is an exact copy of a row of the final output: the
    # landed job drops exact copies (glue-scripts/tests/test_landed.py).
    final = {json.dumps(r, sort_keys=True, default=str) for r in enriched_rows}
    for line in restart.redelivered["enriched"]:
        row = json.loads(line)
        row["ts"] = utc(row["ts"])
        assert json.dumps(row, sort_keys=True, default=str) in final
