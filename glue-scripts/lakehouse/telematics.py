"""Vehicle telematics: typed and validated readings, deduplicated, with per-interval deltas."""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql.window import WindowSpec
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


def by_vehicle() -> WindowSpec:
    """A vehicle's readings: the deduplication and the intervals share this window's partitioning,
    so the batch is shuffled by vehicle once (issue 17: a window by (vehicle_id, ts) for the
    deduplication cost a second shuffle of every reading). A function, as a window needs a session."""
    return Window.partitionBy("vehicle_id")


def last_of_day() -> Column:
    """True for a reading that is its vehicle-day's last: the vehicle's next reading, in the order
    of `with_intervals`' window (which it shares, so nothing is sorted again), is on a later day or
    there is none."""
    following = F.lead("ts").over(by_vehicle().orderBy("ts"))
    return following.isNull() | (F.to_date(following) != F.to_date("ts"))


def first_arrivals(readings: DataFrame, *later_first: Column) -> DataFrame:
    """One reading per (vehicle_id, ts): the first ingested (`ingested_at`, then `later_first`, the
    tie-breakers). Ordered by vehicle, ts and arrival, a reading is its key's first when the row
    before it has another key; partitioned by vehicle alone, so `with_intervals` reuses the shuffle."""
    order = by_vehicle().orderBy("ts", F.col("ingested_at").asc_nulls_last(), *later_first)
    # A struct, so that "no row before" (null) and "a row before with a null ts" differ.
    before = F.lag(F.struct("ts")).over(order)
    return readings.withColumn("_before", before).where(F.col("_before").isNull() | ~F.col("_before.ts").eqNullSafe(F.col("ts"))).drop("_before")


def checked(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid readings, copies included; quarantined readings with reasons)."""
    return split_by_reasons(typed(raw, contract), contract_reasons(contract))


def prepare(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid readings, one per (vehicle_id, ts): the first ingested; quarantined readings with reasons)."""
    valid, quarantined = checked(raw, contract)
    return first_arrivals(valid), quarantined


def with_intervals(readings: DataFrame, earlier: DataFrame | None = None) -> DataFrame:
    """Each reading with the interval that ends at it: distance_km and fuel_l since the vehicle's
    previous reading, interval_seconds, and interval_status: ok, first_reading, negative_delta (a
    counter went back: reset or replaced unit) or gap_over_15_min.

    `earlier` (vehicle_id, day, ts, odometer_km, fuel_used_l): for a vehicle-day of `readings`,
    the vehicle's last reading before that day which `readings` does not hold (the table's, on a
    day the batch did not touch). A day's first reading takes it as its previous when it is later
    than the previous one in `readings`; only a day's first reading can have one in between, since
    `earlier` lies on other days. It is joined by broadcast on (vehicle, day), so the window's
    shuffle by vehicle stays the only one."""
    order = by_vehicle().orderBy("ts")
    # The previous reading's columns, each with the column of `earlier` that may stand in for it.
    previous = {"_prev_ts": ("ts", "_e_ts"), "_prev_odometer": ("odometer_km", "_e_odometer"), "_prev_fuel": ("fuel_used_l", "_e_fuel")}
    lagged = readings.withColumns({name: F.lag(column).over(order) for name, (column, _) in previous.items()})
    if earlier is not None:
        e = F.broadcast(earlier.select(F.col("vehicle_id").alias("_e_vehicle"), F.col("day").alias("_e_day"),
                                       *[F.col(column).alias(stand_in) for column, stand_in in previous.values()]))
        lagged = lagged.join(e, (F.col("vehicle_id") == F.col("_e_vehicle")) & (F.to_date("ts") == F.col("_e_day")), "left")
        takes_earlier = F.col("_e_ts").isNotNull() & (F.col("_prev_ts").isNull() | (F.col("_e_ts") > F.col("_prev_ts")))
        lagged = lagged.withColumns({name: F.when(takes_earlier, F.col(stand_in)).otherwise(F.col(name)) for name, (_, stand_in) in previous.items()})
        lagged = lagged.drop("_e_vehicle", "_e_day", *[stand_in for _, stand_in in previous.values()])
    distance = F.col("odometer_km") - F.col("_prev_odometer")
    fuel = F.col("fuel_used_l") - F.col("_prev_fuel")
    seconds = F.unix_timestamp("ts") - F.unix_timestamp("_prev_ts")
    status = (
        F.when(F.col("_prev_ts").isNull(), F.lit("first_reading"))
        .when((distance < 0) | (fuel < 0), F.lit("negative_delta"))
        .when(seconds > MAX_INTERVAL_SECONDS, F.lit("gap_over_15_min"))
        .otherwise(F.lit(INTERVAL_OK))
    )
    return (
        lagged.withColumn("distance_km", distance)
        .withColumn("fuel_l", fuel)
        .withColumn("interval_seconds", seconds)
        .withColumn("interval_status", status)
        .withColumn("load_band", load_band(F.col("load_kg")))
        .drop(*previous)
    )


def load_band(load_kg):
    """Load feature: empty below 500 kg, partial up to 12 t, full above; unknown without a reading."""
    return F.when(load_kg.isNull(), "unknown").when(load_kg < 500, "empty").when(load_kg <= 12_000, "partial").otherwise("full")
