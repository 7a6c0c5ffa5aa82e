"""Reads the dataset contracts shipped beside the job (contracts/ in the application zip).

Validation of the contract files happens in the repository's test suite (lib/contracts and
glue-scripts/lakehouse/contracts.py); the job only needs their columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# In the application zip, contracts/ sits beside enrichment/; in the repository, one level up.
_CANDIDATES = [Path(__file__).resolve().parents[1] / "contracts", Path(__file__).resolve().parents[2] / "contracts"]


def contract(file_name: str) -> dict[str, Any]:
    for directory in _CANDIDATES:
        path = directory / file_name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"contract {file_name} not found in {[str(c) for c in _CANDIDATES]}")


READINGS = "sensors.sensor_readings.json"
DEVICE_UPDATES = "device_registry.device_updates.json"
ENRICHED = "sensors.sensor_readings_enriched.json"
