"""Vehicle telematics: typed and validated readings, deduplicated, with per-interval deltas."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .quality import contract_reasons, split_by_reasons

# An interval longer than this is not one stretch of driving (DESIGN.md: rejected, counted).
MAX_INTERVAL_SECONDS = 15 * 60
INTERVAL_OK = "ok"


def typed(raw: DataFrame, contract: Mapping[str, Any]) -> DataFrame:
    """Contract names and types; epoch-millisecond timestamps become timestamps."""
    columns = []
    for c in contract["columns"]:
        source = F.col(c.get("raw", {}).get("name", c["name"]))
        if c.get("raw", {}).get("encoding") == "epoch_millis":
            columns.append(F.timestamp_millis(source.cast("long")).alias(c["name"]))
        else:
            columns.append(source.cast(c["type"]).alias(c["name"]))
    return raw.select(*columns)


def prepare(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid readings, one per (vehicle_id, ts): the first ingested; quarantined readings with reasons)."""
    valid, quarantined = split_by_reasons(typed(raw, contract), contract_reasons(contract))
    first = Window.partitionBy("vehicle_id", "ts").orderBy(F.col("ingested_at").asc())
    deduplicated = valid.withColumn("_rn", F.row_number().over(first)).where(F.col("_rn") == 1).drop("_rn")
    return deduplicated, quarantined


def with_intervals(readings: DataFrame) -> DataFrame:
    """Each reading with the interval that ends at it: distance_km and fuel_l since the vehicle's
    previous reading, interval_seconds, and interval_status: ok, first_reading, negative_delta (a
    counter went back: reset or replaced unit) or gap_over_15_min."""
    previous = Window.partitionBy("vehicle_id").orderBy("ts")
    prev_ts = F.lag("ts").over(previous)
    distance = F.col("odometer_km") - F.lag("odometer_km").over(previous)
    fuel = F.col("fuel_used_l") - F.lag("fuel_used_l").over(previous)
    seconds = F.unix_timestamp("ts") - F.unix_timestamp(prev_ts)
    status = (
        F.when(prev_ts.isNull(), F.lit("first_reading"))
        .when((distance < 0) | (fuel < 0), F.lit("negative_delta"))
        .when(seconds > MAX_INTERVAL_SECONDS, F.lit("gap_over_15_min"))
        .otherwise(F.lit(INTERVAL_OK))
    )
    return (
        readings.withColumn("distance_km", distance)
        .withColumn("fuel_l", fuel)
        .withColumn("interval_seconds", seconds)
        .withColumn("interval_status", status)
        .withColumn("load_band", load_band(F.col("load_kg")))
    )


def load_band(load_kg):
    """Load feature: empty below 500 kg, partial up to 12 t, full above; unknown without a reading."""
    return F.when(load_kg.isNull(), "unknown").when(load_kg < 500, "empty").when(load_kg <= 12_000, "partial").otherwise("full")
