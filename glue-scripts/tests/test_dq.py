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
    bad = spark.createDataFrame([("Madrid", hour, 12.0, "rain"), ("Madrid", hour, 75.0, "sunny")], schema)
    with pytest.raises(DataQualityError) as raised:
        enforce_locally(bad, contract_of(CONTRACTS, "weather"), "weather")
    assert raised.value.failures == [
        ('IsPrimaryKey "city" "observation_hour"', 1),
        ('ColumnValues "temperature_c" <= 60', 1),
        ('ColumnValues "condition" in ["clear", "cloudy", "fog", "drizzle", "rain", "snow", "thunderstorm"]', 1),
    ]
