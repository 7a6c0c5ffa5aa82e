"""Hourly weather per city: a complete series of the day's hours, gaps flagged, temperature bands."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from .quality import contract_reasons, split_by_reasons


def temp_range(temperature_c: Column) -> Column:
    """DESIGN.md: Low below 10 °C, Medium from 10 to below 25 °C, High from 25 °C."""
    return F.when(temperature_c < 10, "Low").when(temperature_c < 25, "Medium").when(temperature_c >= 25, "High")


def prepare(raw: DataFrame, contract: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """(valid observations, one per (city, hour); quarantined rows with reasons)."""
    columns = [F.col(c["name"]).cast(c["type"]).alias(c["name"]) for c in contract["columns"]]
    valid, quarantined = split_by_reasons(raw.select(*columns), contract_reasons(contract))
    return valid.dropDuplicates(["city", "observation_hour"]), quarantined


def hourly_series(spark: SparkSession, observations: DataFrame, first_day: str, last_day: str, cities: Sequence[str]) -> DataFrame:
    """Every hour of `first_day` .. `last_day` (UTC) for every city: the observation when there is
    one, otherwise a row with null values and is_missing = true, so gaps are visible rather than absent."""
    hours = spark.sql(f"SELECT explode(sequence(timestamp'{first_day} 00:00:00', timestamp'{last_day} 23:00:00', interval 1 hour)) AS observation_hour")
    grid = hours.crossJoin(spark.createDataFrame([(c,) for c in cities], "city string"))
    return with_flags(grid.join(observations, ["city", "observation_hour"], "left"))


def with_flags(series: DataFrame) -> DataFrame:
    """is_missing (no temperature for the hour) and the temperature range."""
    return series.withColumn("is_missing", F.col("temperature_c").isNull()).withColumn("temp_range", temp_range(F.col("temperature_c")))
