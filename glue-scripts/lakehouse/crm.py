"""CRM customers: DMS changes to current state."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from . import cdc
from .quality import contract_reasons, split_by_reasons


def prepare_changes(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid changes, quarantined changes with reasons).

    An insert or update must satisfy the contract; a delete needs only its key and commit time.
    An unknown operation is quarantined.
    """
    df = cdc.normalise_op(raw)
    key = contract["key"]
    op_reason = F.when(~F.col(cdc.OP).isin(*cdc.KNOWN_OPS), F.concat(F.lit("Op: '"), F.col(cdc.OP), F.lit("' is not I, U or D")))
    commit_reason = F.when(F.col(cdc.COMMIT_TS).isNull(), F.lit("commit_ts: required"))
    key_reasons = [F.when(F.col(k).isNull(), F.lit(f"{k}: required")) for k in key]
    row_reasons = [F.when(F.col(cdc.OP) != "D", r) for r in contract_reasons(contract, skip=tuple(key))]
    valid, quarantined = split_by_reasons(df, [op_reason, commit_reason, *key_reasons, *row_reasons])
    columns = [c["name"] for c in contract["columns"]]
    return valid.select(*columns, cdc.OP, cdc.COMMIT_TS), quarantined


def kpi_changes(before: DataFrame, changes: DataFrame, versions_before: DataFrame | None) -> DataFrame:
    """What a batch of customer changes changes in the KPI, as ledger entries (customer_id,
    changed_from). The KPI's segment is the one valid at the interval's time, so a change moves the
    intervals from its commit time on; a customer's first version also stands for the time before
    it (nothing earlier is known), so it moves all of that customer's intervals (changed_from null).
    A superset: a change that keeps the segment recomputes dates whose rows stay the same."""
    known = versions_before.select("customer_id").distinct().withColumn("_known", F.lit(True))
    first = changes.groupBy("customer_id").agg(F.min(cdc.COMMIT_TS).alias("_first_change"))
    return first.join(known, "customer_id", "left").select(
        "customer_id", F.when(F.col("_known"), F.col("_first_change")).alias("changed_from")
    )
