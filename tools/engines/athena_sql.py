"""The KPI statements as Athena receives them, from the TypeScript that sends them
(tools/kpi/compile.ts over lambda/shared/kpi/catalogue.ts), for a local Trino to run."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TS_NODE = ROOT / "node_modules" / ".bin" / "ts-node"


def athena_statements(values: dict[str, str]) -> dict[str, dict[str, Any]]:
    """KPI name -> {file, sql (positional ?), executionParameters (literal texts)} for these values."""
    result = subprocess.run([str(TS_NODE), "--transpile-only", str(ROOT / "tools" / "kpi" / "compile.ts"), json.dumps(values)],
                            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"tools/kpi/compile.ts failed: {result.stderr.strip()[-1500:]}")
    return json.loads(result.stdout)


def comparable(rows: list[list[Any]] | list[tuple[Any, ...]], digits: int = 6) -> list[tuple[Any, ...]]:
    """Rows of either engine in one form: dates as text, floats rounded (Trino and Spark, like
    Trino and Athena, may differ in the last bits of a double)."""
    def value(v: Any) -> Any:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, float):
            return round(v, digits)
        return v
    return [tuple(value(v) for v in row) for row in rows]
