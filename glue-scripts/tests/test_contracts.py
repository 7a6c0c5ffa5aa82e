import json
from pathlib import Path

import pytest

from lakehouse.contracts import (
    ContractError,
    contract_of,
    cross_field_problems,
    load_contracts,
    raw_prefix,
    required_columns,
)

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "test" / "fixtures" / "bad-contracts"
EXPECTED = json.loads((BAD / "expected.json").read_text())


def test_every_design_dataset_has_a_contract():
    datasets = [c["dataset"] for c in load_contracts()]
    assert datasets == ["customers", "device_updates", "sensor_readings", "sensor_readings_enriched", "shipments", "telematics", "weather"]


def test_contract_fields_the_jobs_rely_on():
    contracts = load_contracts()
    telematics = contract_of(contracts, "telematics")
    assert telematics["key"] == ["vehicle_id", "ts"]
    assert raw_prefix(telematics) == "raw/iot/telematics/"
    assert required_columns(telematics) == ["vehicle_id", "ts", "odometer_km", "fuel_used_l", "ingested_at"]
    shipments = contract_of(contracts, "shipments")
    departed = next(c for c in shipments["columns"] if c["name"] == "departed_at")
    assert departed["raw"] == {"name": "DepartTS", "type": "string", "encoding": "legacy_mixed"}


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(KeyError, match="known: customers, device_updates"):
        contract_of(load_contracts(), "nope")


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_contract_is_rejected_with_its_problem(case):
    with pytest.raises(ContractError) as raised:
        load_contracts(BAD / case)
    assert EXPECTED[case] in str(raised.value)


def test_valid_contracts_have_no_cross_field_problems():
    for contract in load_contracts():
        assert cross_field_problems(contract, f"{contract['source']}.{contract['dataset']}.json") == []
