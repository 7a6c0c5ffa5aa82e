"""The Athena named queries (queries/*.sql), run as they are on local Spark over telemetry_metrics."""

from datetime import date
from pathlib import Path

import pytest

QUERIES = Path(__file__).resolve().parents[2] / "queries"


@pytest.fixture(scope="module")
def metrics_view(spark):
    rows = [
        # date, city, temp_range, condition, segment, intervals, vehicles, distance_km, fuel_l
        (date(2026, 11, 21), "Madrid", "Low", "rain", "enterprise", 2, 1, 20.0, 5.0),
        (date(2026, 11, 21), "Madrid", "High", "clear", "enterprise", 1, 1, 80.0, 20.0),
        (date(2026, 11, 21), "Bilbao", "Low", "rain", "mid_market", 3, 2, 100.0, 40.0),
    ]
    df = spark.createDataFrame(rows, "metric_date date, city string, temp_range string, weather_condition string, customer_segment string, intervals bigint, vehicles bigint, distance_km double, fuel_l double")
    df.withColumn("fuel_l_per_100km", 100 * df.fuel_l / df.distance_km).createOrReplaceTempView("telemetry_metrics")


def run(spark, name):
    return [tuple(r) for r in spark.sql((QUERIES / f"{name}.sql").read_text()).collect()]


def test_by_city_is_a_ratio_of_sums(spark, metrics_view):
    # Madrid: 100 x (5 + 20) / (20 + 80) = 25.0, not the mean of 25.0 and 25.0 by luck: Bilbao 40.0
    assert run(spark, "fuel_by_city") == [("Bilbao", 3, 100.0, 40.0, 40.0), ("Madrid", 3, 100.0, 25.0, 25.0)]


def test_by_temperature_range(spark, metrics_view):
    # Low: 100 x (5 + 40) / (20 + 100) = 37.5 (the mean of the rows' ratios would be 32.5)
    assert run(spark, "fuel_by_temperature_range") == [("High", 1, 80.0, 20.0, 25.0), ("Low", 5, 120.0, 45.0, 37.5)]


def test_by_weather_condition(spark, metrics_view):
    assert run(spark, "fuel_by_weather_condition") == [("clear", 1, 80.0, 20.0, 25.0), ("rain", 5, 120.0, 45.0, 37.5)]


def test_the_brief_example(spark, metrics_view):
    assert sorted(r[1] for r in run(spark, "low_temperature_metrics")) == ["Bilbao", "Madrid"]
