"""Legacy SQL shipments: legacy column names to the contract's, mixed timestamps to UTC, then CDC."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from . import cdc, kpi_dates
from .quality import contract_reasons, split_by_reasons

def parse_legacy_timestamp(value: Column, legacy: Mapping[str, Any]) -> Column:
    """A timestamp (UTC) from the first of the contract's legacy formats that fits, or null when none
    does (raw.legacyTimestamps). Runs of white space count as one ('Mar  1 2026 12:00PM'); a value
    without an offset is in the contract's time zone; ten digits are epoch seconds where the
    contract says so."""
    text = F.regexp_replace(F.trim(value.cast("string")), r"\s+", " ")
    parsed = []
    if legacy.get("epochSeconds"):
        parsed.append(F.when(text.rlike(r"^\d{10}$"), F.timestamp_seconds(text.cast("long"))))
    for fmt in legacy["formats"]:
        candidate = F.try_to_timestamp(text, F.lit(fmt))
        has_offset = any(letter in fmt.replace("'", "") for letter in "XxZO")
        parsed.append(candidate if has_offset else F.to_utc_timestamp(candidate, legacy["timeZone"]))
    return F.coalesce(*parsed)


def normalise(raw: DataFrame, contract: Mapping[str, Any]) -> DataFrame:
    """Contract names and types; legacy timestamps parsed (null when unparseable, kept raw in `_raw_<name>`)."""
    columns: list[Column] = []
    for c in contract["columns"]:
        raw_name = c.get("raw", {}).get("name", c["name"])
        source = F.col(f"`{raw_name}`")
        if c.get("raw", {}).get("encoding") == "legacy_mixed":
            columns.append(parse_legacy_timestamp(source, contract["raw"]["legacyTimestamps"]).alias(c["name"]))
            columns.append(source.cast("string").alias(f"_raw_{c['name']}"))
        else:
            columns.append(source.cast(c["type"]).alias(c["name"]))
    return raw.select(*columns, F.col(cdc.OP), F.col(cdc.COMMIT_TS))


def prepare_changes(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid changes, quarantined rows with reasons, garbage timestamps included)."""
    df = cdc.normalise_op(normalise(raw, contract))
    key = contract["key"]
    legacy = contract["raw"].get("legacyTimestamps", {})
    accepted = f"none of the contract's raw.legacyTimestamps formats fits ({legacy.get('dayOrder', 'no day order')})"
    unparseable = [
        F.when(F.col(f"_raw_{c['name']}").isNotNull() & (F.trim(F.col(f"_raw_{c['name']}")) != "") & F.col(c["name"]).isNull(),
               F.concat(F.lit(f"{c['name']}: unparseable timestamp '"), F.col(f"_raw_{c['name']}"), F.lit(f"': {accepted}")))
        for c in contract["columns"]
        if c.get("raw", {}).get("encoding") == "legacy_mixed"
    ]
    op_reason = F.when(~F.col(cdc.OP).isin(*cdc.KNOWN_OPS), F.concat(F.lit("Op: '"), F.col(cdc.OP), F.lit("' is not I, U or D")))
    key_reasons = [F.when(F.col(k).isNull(), F.lit(f"{k}: required")) for k in key]
    row_reasons = [F.when(F.col(cdc.OP) != "D", r) for r in [*unparseable, *contract_reasons(contract, skip=tuple(key))]]
    valid, quarantined = split_by_reasons(df, [op_reason, *key_reasons, *row_reasons])
    columns = [c["name"] for c in contract["columns"]]
    return valid.select(*columns, cdc.OP, cdc.COMMIT_TS), quarantined


def kpi_changes(before: DataFrame, changes: DataFrame, versions_before: DataFrame | None) -> DataFrame:
    """The metric dates a batch of shipment changes changes: every day covered by a changed
    shipment's version before the batch (its intervals may leave it: a deleted shipment, a corrected
    origin city or time) and by its new versions (an arrival filled in, a re-insert)."""
    def days(frame: DataFrame) -> DataFrame:
        return frame.select(F.explode(kpi_dates.days_between(F.col("departed_at"), F.col("arrived_at"))).alias("metric_date"))

    return days(before).unionByName(days(changes.where(F.col(cdc.OP) != "D"))).distinct()
