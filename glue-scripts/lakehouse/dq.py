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
from functools import reduce
from typing import Any, Callable, Mapping

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from .contracts import js_number


@dataclass(frozen=True)
class Rule:
    dqdl: str
    # aggregate expressions whose sum is the number of rows that break the rule (0 = passes); all
    # the rules are counted in one pass. Built when evaluated: a Column needs a Spark session, and
    # the ruleset text does not.
    counts: Callable[[], list[Column]]
    # Columns of each row that `counts` reads, added before that pass: a window function, which
    # cannot stand inside an aggregate.
    marks: Callable[[], dict[str, Column]] = dict


# A row whose complete key equals the row's before it in key order: a row beyond its key's first.
COPY_OF_PREVIOUS = "_dq_copy_of_previous"


def rules_for(contract: Mapping[str, Any]) -> list[Rule]:
    rules: list[Rule] = []
    key = contract["key"]
    quoted = " ".join(f'"{k}"' for k in key)

    def incomplete() -> Column:
        return reduce(lambda either, k: either | F.col(k).isNull(), key, F.lit(False))

    def copy_of_previous() -> dict[str, Column]:
        """Ordered by the key within its first column's values, the rows of one key are
        neighbours, and each but the first follows a copy of its own key. A window partitioned by
        the key's first column: the telematics rows, partitioned by vehicle_id and ordered by
        (vehicle_id, ts) when checked, are neither shuffled again nor hashed key by key, as a
        distinct count of the keys did (issue 17, docs/decisions.md 162)."""
        rest = key[1:] or key
        same = F.struct(*[F.col(k) for k in rest])
        return {COPY_OF_PREVIOUS: ~incomplete() & F.lag(same).over(Window.partitionBy(key[0]).orderBy(*rest)).eqNullSafe(same)}

    def not_primary_key() -> list[Column]:
        """Rows with a null in the key, and rows beyond the first of each complete key."""
        return [F.count(F.when(incomplete(), 1)), F.count(F.when(F.col(COPY_OF_PREVIOUS), 1))]

    rules.append(Rule(f"IsPrimaryKey {quoted}", not_primary_key, copy_of_previous))
    for c in contract["columns"]:
        if not c.get("required") or c["name"] in key:
            continue
        name = c["name"]
        rules.append(Rule(f'IsComplete "{name}"', lambda n=name: [F.count(F.when(F.col(n).isNull(), 1))]))
        if "min" in c:
            rules.append(Rule(f'ColumnValues "{name}" >= {js_number(c["min"])}', lambda n=name, v=c["min"]: [F.count(F.when(F.col(n) < v, 1))]))
        if "max" in c:
            rules.append(Rule(f'ColumnValues "{name}" <= {js_number(c["max"])}', lambda n=name, v=c["max"]: [F.count(F.when(F.col(n) > v, 1))]))
        if "allowed" in c:
            values = ", ".join(json.dumps(v) for v in c["allowed"])
            rules.append(Rule(f'ColumnValues "{name}" in [{values}]', lambda n=name, a=tuple(c["allowed"]): [F.count(F.when(~F.col(n).isin(*a), 1))]))
    return rules


def ruleset(contract: Mapping[str, Any]) -> str:
    """The DQDL ruleset document."""
    return "Rules = [\n    " + ",\n    ".join(r.dqdl for r in rules_for(contract)) + "\n]"


class DataQualityError(RuntimeError):
    def __init__(self, table: str, failures: list[tuple[str, int]]):
        self.failures = failures
        super().__init__(f"data quality of {table} failed: " + "; ".join(f"{rule} ({count} rows)" for rule, count in failures))


def enforce_locally(df: DataFrame, contract: Mapping[str, Any], table: str) -> None:
    """Evaluates the rules with Spark; raises DataQualityError naming each broken rule. Every rule
    is counted in one pass over `df` (one Spark job, not one or three per rule: issue 17)."""
    rules = rules_for(contract)
    expressions = [(r.dqdl, expression) for r in rules for expression in r.counts()]
    df = df.withColumns({name: mark for r in rules for name, mark in r.marks().items()})
    counted = df.agg(*[expression.alias(f"c{i}") for i, (_, expression) in enumerate(expressions)]).first()
    broken: dict[str, int] = {}
    for i, (dqdl, _) in enumerate(expressions):
        broken[dqdl] = broken.get(dqdl, 0) + counted[i]
    failures = [(r.dqdl, broken[r.dqdl]) for r in rules if broken[r.dqdl] > 0]
    if failures:
        raise DataQualityError(table, failures)
