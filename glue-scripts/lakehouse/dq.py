"""Data-quality rules of a processed table, derived from its contract.

Each rule has its DQDL text, which Glue Data Quality evaluates inside the job on Glue (and which
the CDK rulesets publish), and a Spark check with the same meaning, which local runs and the tests
evaluate. A broken rule fails the run with every failed rule named.

Rules: every required column complete; the key a primary key (complete and unique); required
numeric columns within their range; required string columns within their allowed values.
Optional columns are checked on the way in (quarantine), where a null is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from .contracts import js_number


@dataclass(frozen=True)
class Rule:
    dqdl: str
    # number of rows that break the rule (0 = passes)
    violations: Callable[[DataFrame], int]


def rules_for(contract: Mapping[str, Any]) -> list[Rule]:
    rules: list[Rule] = []
    key = contract["key"]
    quoted = " ".join(f'"{k}"' for k in key)

    def duplicates(df: DataFrame) -> int:
        return df.count() - df.select(*key).distinct().count() + df.where(" OR ".join(f"`{k}` IS NULL" for k in key)).count()

    rules.append(Rule(f"IsPrimaryKey {quoted}", duplicates))
    for c in contract["columns"]:
        if not c.get("required") or c["name"] in key:
            continue
        name = c["name"]
        rules.append(Rule(f'IsComplete "{name}"', lambda df, n=name: df.where(F.col(n).isNull()).count()))
        if "min" in c:
            rules.append(Rule(f'ColumnValues "{name}" >= {js_number(c["min"])}', lambda df, n=name, v=c["min"]: df.where(F.col(n) < v).count()))
        if "max" in c:
            rules.append(Rule(f'ColumnValues "{name}" <= {js_number(c["max"])}', lambda df, n=name, v=c["max"]: df.where(F.col(n) > v).count()))
        if "allowed" in c:
            values = ", ".join(json.dumps(v) for v in c["allowed"])
            rules.append(Rule(f'ColumnValues "{name}" in [{values}]', lambda df, n=name, a=tuple(c["allowed"]): df.where(~F.col(n).isin(*a)).count()))
    return rules


def ruleset(contract: Mapping[str, Any]) -> str:
    """The DQDL ruleset document."""
    return "Rules = [\n    " + ",\n    ".join(r.dqdl for r in rules_for(contract)) + "\n]"


class DataQualityError(RuntimeError):
    def __init__(self, table: str, failures: list[tuple[str, int]]):
        self.failures = failures
        super().__init__(f"data quality of {table} failed: " + "; ".join(f"{rule} ({count} rows)" for rule, count in failures))


def enforce_locally(df: DataFrame, contract: Mapping[str, Any], table: str) -> None:
    """Evaluates the rules with Spark; raises DataQualityError naming each broken rule."""
    failures = [(r.dqdl, n) for r in rules_for(contract) if (n := r.violations(df)) > 0]
    if failures:
        raise DataQualityError(table, failures)
