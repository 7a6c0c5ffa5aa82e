"""CRM customers: DMS changes to current state."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from . import cdc
from .quality import contract_reasons, split_by_reasons


def prepare_changes(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(latest valid change per customer, quarantined changes with reasons).

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
    return cdc.latest_change_per_key(valid, key).select(*columns, cdc.OP, cdc.COMMIT_TS), quarantined
