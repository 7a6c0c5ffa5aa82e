"""The KPI catalogue (queries/*.sql), the SQL the named queries, the kpi command and the API run,
on local Spark over telemetry_metrics, with its parameters bound; results computed by hand."""

from datetime import date
from pathlib import Path

import pytest

from lakehouse.queries import run_kpi

QUERIES = Path(__file__).resolve().parents[2] / "queries"


@pytest.fixture(scope="module")
def metrics_view(spark):
    rows = [
        # date, city, temp_range, condition, segment, intervals, vehicles, distance_km, fuel_l
        (date(2026, 11, 21), "Madrid", "Low", "rain", "enterprise", 2, 1, 20.0, 5.0),
        (date(2026, 11, 21), "Madrid", "High", "clear", "enterprise", 1, 1, 80.0, 20.0),
        (date(2026, 11, 21), "Bilbao", "Low", "rain", "mid_market", 3, 2, 100.0, 40.0),
        # the next day, outside the ranges below unless they reach it
        (date(2026, 11, 22), "Madrid", "Low", "fog", "mid_market", 4, 2, 50.0, 20.0),
    ]
    df = spark.createDataFrame(rows, "metric_date date, city string, temp_range string, weather_condition string, customer_segment string, intervals bigint, vehicles bigint, distance_km double, fuel_l double")
    df.withColumn("fuel_l_per_100km", 100 * df.fuel_l / df.distance_km).createOrReplaceTempView("telemetry_metrics")


def run(spark, name, **values):
    values = {"from": "2026-11-21", "to": "2026-11-21", **values}
    return [tuple(r) for r in run_kpi(spark, (QUERIES / f"{name}.sql").read_text(), **values).collect()]


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


def test_the_range_and_the_city_filter(spark, metrics_view):
    # both days, Madrid only: 100 x (5 + 20 + 20) / (20 + 80 + 50) = 30.0
    assert run(spark, "fuel_by_city", to="2026-11-22", city="Madrid") == [("Madrid", 7, 150.0, 45.0, 30.0)]
    assert run(spark, "fuel_by_city", city="Lisboa") == []
    # a value with a quote stays one literal: no row, no error
    assert run(spark, "fuel_by_city", city="O'Higgins' OR '1'='1") == []


def test_by_customer_segment(spark, metrics_view):
    assert run(spark, "fuel_by_customer_segment") == [("enterprise", 3, 100.0, 25.0, 25.0), ("mid_market", 3, 100.0, 40.0, 40.0)]


def test_daily_fuel_is_the_trend_one_row_per_day(spark, metrics_view):
    assert run(spark, "daily_fuel", to="2026-11-22") == [
        (date(2026, 11, 21), 6, 200.0, 65.0, 32.5),
        (date(2026, 11, 22), 4, 50.0, 20.0, 40.0),
    ]
