"""Every KPI statement as Athena receives it (the SQL with positional parameters and the literal of
each, from lambda/shared/kpi/catalogue.ts through tools/kpi/compile.ts), run on a local Trino
(Athena engine v3 is Trino-based) over an Iceberg telemetry_metrics written by local Spark, and
compared with the same KPI on Spark and, for fuel by city, with rows computed by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from athena_sql import athena_statements, comparable
from lakehouse.queries import run_kpi

QUERIES = Path(__file__).resolve().parents[2] / "queries"
SCHEMA = "kpi_trino"
ROWS = [
    # date, city, temp_range, condition, segment, intervals, vehicles, distance_km, fuel_l
    (date(2026, 11, 21), "Madrid", "Low", "rain", "enterprise", 2, 1, 20.0, 5.0),
    (date(2026, 11, 21), "Madrid", "High", "clear", "enterprise", 1, 1, 80.0, 20.0),
    (date(2026, 11, 21), "Bilbao", "Low", "rain", "mid_market", 3, 2, 100.0, 40.0),
    (date(2026, 11, 22), "Madrid", "Low", "fog", "mid_market", 4, 2, 50.0, 20.0),
    (date(2026, 11, 22), "L'Hospitalet", "Medium", "cloudy", "small_business", 7, 3, 70.0, 21.7),
    (date(2026, 11, 23), "Bilbao", "Medium", "drizzle", "public_sector", 1, 1, 12.5, 4.1),
]
CASES = [
    {"from": "2026-11-21", "to": "2026-11-23"},
    {"from": "2026-11-21", "to": "2026-11-21"},
    {"from": "2026-11-22", "to": "2026-11-23", "city": "L'Hospitalet"},
    # a value the validation lets through (letters, spaces, quotes, parentheses) that would widen the filter if it were SQL
    {"from": "2026-11-21", "to": "2026-11-23", "city": "Madrid' OR 'x' IN ('x"},
]


@pytest.fixture(scope="module")
def metrics_table(spark, trino):
    table = f"lake.{SCHEMA}.telemetry_metrics"
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS lake.{SCHEMA}")
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    df = spark.createDataFrame(ROWS, "metric_date date, city string, temp_range string, weather_condition string, customer_segment string, "
                                     "intervals bigint, vehicles bigint, distance_km double, fuel_l double")
    df.withColumn("fuel_l_per_100km", 100 * df.fuel_l / df.distance_km).writeTo(table).using("iceberg").create()
    location = Path(spark.sql(f"DESCRIBE TABLE EXTENDED {table}").where("col_name = 'Location'").first()["data_type"].removeprefix("file:"))
    trino.register(SCHEMA, "telemetry_metrics", location)
    spark.table(table).createOrReplaceTempView("telemetry_metrics")
    return table


@pytest.mark.parametrize("values", CASES, ids=lambda v: ",".join(f"{k}={v[k]}" for k in v))
def test_every_kpi_answers_on_trino_as_on_spark(spark, trino, metrics_table, values):
    for name, statement in athena_statements(values).items():
        _, trino_rows = trino.execute_with(statement["sql"], statement["executionParameters"], schema=SCHEMA)
        spark_rows = run_kpi(spark, (QUERIES / statement["file"]).read_text(), **values).collect()
        assert comparable(trino_rows) == comparable(spark_rows), name


def test_fuel_by_city_on_trino_equals_the_hand_computed_rows(trino, metrics_table):
    statement = athena_statements({"from": "2026-11-21", "to": "2026-11-22"})["fuel-by-city"]
    _, rows = trino.execute_with(statement["sql"], statement["executionParameters"], schema=SCHEMA)
    # Bilbao: 100 x 40 / 100; L'Hospitalet: 100 x 21.7 / 70; Madrid: 100 x (5 + 20 + 20) / (20 + 80 + 50)
    assert comparable(rows) == comparable([["Bilbao", 3, 100.0, 40.0, 40.0], ["L'Hospitalet", 7, 70.0, 21.7, 31.0], ["Madrid", 7, 150.0, 45.0, 30.0]])


def test_a_quote_in_a_value_stays_inside_its_literal(trino, metrics_table):
    """The city filter given `Madrid' OR 'x' IN ('x`: no row, where SQL built by concatenation would return every city."""
    statement = athena_statements({"from": "2026-11-21", "to": "2026-11-23", "city": "Madrid' OR 'x' IN ('x"})["fuel-by-city"]
    assert trino.execute_with(statement["sql"], statement["executionParameters"], schema=SCHEMA)[1] == []
