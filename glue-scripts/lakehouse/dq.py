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

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from .contracts import js_number


@dataclass(frozen=True)
class Rule:
    dqdl: str
    # the rows that break the rule: a condition on a row (counted with the others in one pass; built
    # when evaluated, since a Column needs a Spark session and the ruleset text does not), or, for
    # a rule over the whole table (the primary key), a function that counts them
    broken: Callable[[], Column] | None = None
    violations: Callable[[DataFrame], int] | None = None


def rules_for(contract: Mapping[str, Any]) -> list[Rule]:
    rules: list[Rule] = []
    key = contract["key"]
    quoted = " ".join(f'"{k}"' for k in key)

    def duplicates(df: DataFrame) -> int:
        return df.count() - df.select(*key).distinct().count() + df.where(" OR ".join(f"`{k}` IS NULL" for k in key)).count()

    rules.append(Rule(f"IsPrimaryKey {quoted}", violations=duplicates))
    for c in contract["columns"]:
        if not c.get("required") or c["name"] in key:
            continue
        name = c["name"]
        rules.append(Rule(f'IsComplete "{name}"', lambda n=name: F.col(n).isNull()))
        if "min" in c:
            rules.append(Rule(f'ColumnValues "{name}" >= {js_number(c["min"])}', lambda n=name, v=c["min"]: F.col(n) < v))
        if "max" in c:
            rules.append(Rule(f'ColumnValues "{name}" <= {js_number(c["max"])}', lambda n=name, v=c["max"]: F.col(n) > v))
        if "allowed" in c:
            values = ", ".join(json.dumps(v) for v in c["allowed"])
            rules.append(Rule(f'ColumnValues "{name}" in [{values}]', lambda n=name, a=tuple(c["allowed"]): ~F.col(n).isin(*a)))
    return rules


def ruleset(contract: Mapping[str, Any]) -> str:
    """The DQDL ruleset document."""
    return "Rules = [\n    " + ",\n    ".join(r.dqdl for r in rules_for(contract)) + "\n]"


class DataQualityError(RuntimeError):
    def __init__(self, table: str, failures: list[tuple[str, int]]):
        self.failures = failures
        super().__init__(f"data quality of {table} failed: " + "; ".join(f"{rule} ({count} rows)" for rule, count in failures))


def enforce_locally(df: DataFrame, contract: Mapping[str, Any], table: str) -> None:
    """Evaluates the rules with Spark; raises DataQualityError naming each broken rule. The row
    rules are counted in one pass over `df` (one Spark job, not one per rule)."""
    rules = rules_for(contract)
    row_rules = [r for r in rules if r.broken is not None]
    counts = df.agg(*[F.count(F.when(r.broken(), 1)).alias(f"r{i}") for i, r in enumerate(row_rules)]).first() if row_rules else []
    broken = {r.dqdl: counts[i] for i, r in enumerate(row_rules)}
    broken.update({r.dqdl: r.violations(df) for r in rules if r.violations is not None})
    failures = [(r.dqdl, broken[r.dqdl]) for r in rules if broken[r.dqdl] > 0]
    if failures:
        raise DataQualityError(table, failures)
