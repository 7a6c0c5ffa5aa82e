from datetime import datetime

import pytest

from lakehouse.contracts import contract_of, load_contracts
from lakehouse.dq import DataQualityError, enforce_locally, ruleset

CONTRACTS = load_contracts()


def test_ruleset_is_derived_from_the_contract():
    assert ruleset(contract_of(CONTRACTS, "weather")) == (
        'Rules = [\n    IsPrimaryKey "city" "observation_hour",\n'
        '    IsComplete "temperature_c",\n    ColumnValues "temperature_c" >= -60,\n    ColumnValues "temperature_c" <= 60,\n'
        '    IsComplete "condition",\n'
        '    ColumnValues "condition" in ["clear", "cloudy", "fog", "drizzle", "rain", "snow", "thunderstorm"]\n]'
    )


def test_a_broken_rule_fails_the_run_naming_every_failed_rule(spark):
    schema = "city string, observation_hour timestamp, temperature_c double, condition string"
    hour = datetime(2026, 11, 21, 10)
    good = spark.createDataFrame([("Madrid", hour, 12.0, "rain"), ("Bilbao", hour, 9.0, "fog")], schema)
    enforce_locally(good, contract_of(CONTRACTS, "weather"), "weather")  # passes
    # a copy of Madrid's key and a row without a city: two rows that break the primary key
    bad = spark.createDataFrame([("Madrid", hour, 12.0, "rain"), ("Madrid", hour, 75.0, "sunny"), (None, hour, 10.0, "rain")], schema)
    with pytest.raises(DataQualityError) as raised:
        enforce_locally(bad, contract_of(CONTRACTS, "weather"), "weather")
    assert raised.value.failures == [
        ('IsPrimaryKey "city" "observation_hour"', 2),
        ('ColumnValues "temperature_c" <= 60', 1),
        ('ColumnValues "condition" in ["clear", "cloudy", "fog", "drizzle", "rain", "snow", "thunderstorm"]', 1),
    ]


def test_scheduled_runs_resolve_yesterday_and_day_paths():
    from datetime import date

    from lakehouse.glue_job import resolve_days

    args = {"JOB_NAME": "j", "day": "yesterday", "raw_path": "s3://b/raw/crm/customers/{day}/", "table": "lake.p.customers"}
    assert resolve_days(args, date(2026, 3, 1)) == {**args, "day": "2026-02-28", "raw_path": "s3://b/raw/crm/customers/2026-02-28/"}
    assert resolve_days({"day": "2026-11-21", "raw_path": "x/{day}"}, date(2026, 12, 1)) == {"day": "2026-11-21", "raw_path": "x/2026-11-21"}


def test_a_range_run_reads_each_days_folder_of_the_path_argument():
    from lakehouse.glue_job import for_days

    template = "s3://b/raw/weather/weather/ingest_date={day}/"
    assert for_days(template, ["2026-11-20", "2026-11-21"]) == ["s3://b/raw/weather/weather/ingest_date=2026-11-20/", "s3://b/raw/weather/weather/ingest_date=2026-11-21/"]
    with pytest.raises(ValueError, match="needs a path argument with"):
        for_days("s3://b/raw/weather/weather/", ["2026-11-20"])


def test_a_one_column_key_counts_every_copy_beyond_the_first_and_every_null(spark):
    """IsPrimaryKey of a key of one column (the window orders by the key itself): three rows of one
    customer are two beyond the first, a null key one more; distinct keys, one row each, pass."""
    contract = contract_of(CONTRACTS, "customers")
    schema = "customer_id string, customer_name string, segment string, created_at timestamp, updated_at timestamp"
    at = datetime(2026, 11, 21, 10)
    row = lambda customer: (customer, "Acme", "enterprise", at, at)  # noqa: E731
    enforce_locally(spark.createDataFrame([row("c1"), row("c2"), row("c3")], schema), contract, "customers")  # passes
    with pytest.raises(DataQualityError) as raised:
        enforce_locally(spark.createDataFrame([row("c1"), row("c1"), row("c2"), row("c1"), row(None)], schema), contract, "customers")
    assert raised.value.failures == [('IsPrimaryKey "customer_id"', 3)]
