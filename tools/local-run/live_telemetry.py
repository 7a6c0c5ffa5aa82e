"""An hour of live telemetry for the alerts function, with planted episodes, and the alerts it must
raise: the ground truth, written out by hand from the planted series below (never computed by the
rules under test).

Every vehicle reports every 30 s at 72 km/h (0.6 km and 0.18 l an interval: 30 l/100 km), its
engine at 88-94 degC, never the same value twice in a row. The planted episodes, with the
environment's default thresholds (lib/config/schema.ts `alerts`):

- vehicle 0, engine overheating: readings 20-39 hover at the open limit (110 degC) before three in
  a row exceed it (113, 115 at readings 27, 28 after 111 at 26), then at the close limit (100 degC)
  before three in a row fall below it (readings 35-37). One episode: opened at reading 28, peak 117
  at 29, closed at 37. Reading 28 is delivered twice (a Kinesis redelivery).
- vehicle 1, silent while moving: no reading from 40 to 100 (its last at 19:30, moving); back at
  reading 101 (50:30). One vehicleSilent episode: opened at 19:30 + 15 min = 34:30, closed at 50:30,
  31 minutes silent.
- vehicle 2, fuel loss: 6 litres more than the engine burns in the interval ending at reading 50.
  One fuelLoss episode: opened at 50, closed at 53 (three normal intervals), peak 6.18 l.
- two readings that break the contract (a speed of 400 km/h, no odometer): rejected with reasons.
- the fleet parks at the end of the hour, so the checks that run after it open nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

INTERVAL_S = 30
READINGS = 120  # an hour
KM, LITRES = 0.6, 0.18  # per interval, at 72 km/h and 30 l/100 km

# vehicle 0's engine temperature at readings 20..39 (outside that range, the normal 88-94 cycle)
OVERHEAT = [108, 111, 109, 111, 112, 109, 111, 113, 115, 117, 116, 112, 104, 99, 101, 99, 98, 97, 96, 95]
OVERHEAT_FROM = 20
SILENT_READINGS = range(40, 101)
FUEL_LOSS_AT, FUEL_LOSS_LITRES = 50, 6.0
REDELIVERED = (0, 28)
# The fleet parks for the last minute of the hour (engine idling, then off): no vehicle is silent
# while moving when the run's readings end, so the checks after them must open nothing.
PARKED_FROM, IDLE_LITRES = 118, 0.02


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate(vehicle_ids: list[str], start: datetime) -> tuple[list[str], list[dict[str, Any]]]:
    """The stream's messages in time order (as the IoT rule puts them), and the alerts expected in
    the table at the end (every planted episode opened and closed)."""
    at = lambda i: start + timedelta(seconds=i * INTERVAL_S)  # noqa: E731
    odometer = {v: 10_000.0 + 1000 * v for v in range(len(vehicle_ids))}
    fuel = {v: 500.0 + 100 * v for v in range(len(vehicle_ids))}
    lines: list[str] = []
    for i in range(READINGS):
        parked = i >= PARKED_FROM
        for v, vehicle in enumerate(vehicle_ids):
            if i > 0:  # the interval that ends at reading i, whether the vehicle reports it or not
                odometer[v] += 0.0 if parked else KM
                fuel[v] += IDLE_LITRES if parked else LITRES
                if v == 2 and i == FUEL_LOSS_AT:
                    fuel[v] += FUEL_LOSS_LITRES
            if v == 1 and i in SILENT_READINGS:
                continue
            temp = OVERHEAT[i - OVERHEAT_FROM] if v == 0 and OVERHEAT_FROM <= i < OVERHEAT_FROM + len(OVERHEAT) else 88.0 + (i + v) % 7
            message = {
                "vehicle_id": vehicle, "ts": _ms(at(i)), "latitude": 40.0, "longitude": -3.7, "speed_kmh": 0.0 if parked else 72.0,
                "odometer_km": round(odometer[v], 3), "fuel_used_l": round(fuel[v], 4), "engine_temp_c": float(temp),
                "ingested_at": _ms(at(i)) + 800,
            }
            lines.append(json.dumps(message))
            if (v, i) == REDELIVERED:
                lines.append(json.dumps(message))
    broken = [
        {"vehicle_id": vehicle_ids[-1], "ts": _ms(at(60)) + 1000, "speed_kmh": 400.0, "odometer_km": 1.0, "fuel_used_l": 1.0},
        {"vehicle_id": vehicle_ids[-1], "ts": _ms(at(61)) + 1000, "fuel_used_l": 1.0},
    ]
    for b in broken:
        b["ingested_at"] = b["ts"] + 800
        lines.insert(61 * len(vehicle_ids), json.dumps(b))

    expected = [
        {"vehicle_id": vehicle_ids[0], "rule": "engineOverheat", "opened_at": _iso(at(28)), "closed_at": _iso(at(37)), "peak": 117.0},
    ]
    if len(vehicle_ids) > 1:
        last_seen = at(SILENT_READINGS.start - 1)
        expected.append({"vehicle_id": vehicle_ids[1], "rule": "vehicleSilent", "opened_at": _iso(last_seen + timedelta(minutes=15)),
                         "closed_at": _iso(at(SILENT_READINGS.stop)), "peak": 31.0})
    if len(vehicle_ids) > 2:
        expected.append({"vehicle_id": vehicle_ids[2], "rule": "fuelLoss", "opened_at": _iso(at(FUEL_LOSS_AT)), "closed_at": _iso(at(FUEL_LOSS_AT + 3)),
                         "peak": round(LITRES + FUEL_LOSS_LITRES, 4)})
    return lines, sorted(expected, key=lambda a: (a["vehicle_id"], a["rule"], a["opened_at"]))


BROKEN_READINGS = 2
