"""Loader of the dataset contracts in contracts/, the Python twin of lib/contracts/index.ts.

Both validate each file against contracts/contract.schema.json and apply the same cross-field
rules (``cross_field_problems`` here, ``crossFieldProblems`` there); test/contracts.test.ts runs
both on the same files and fails if they disagree. The Glue jobs derive their Spark schemas,
required fields and value ranges from what this returns.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
SCHEMA_FILE = "contract.schema.json"


def _default_root():
    """The repository's contracts/, or, inside the zip a Glue job imports, the copy packaged as
    lakehouse/_contracts (lib/constructs/glue-etl-jobs.ts builds it)."""
    return CONTRACTS_DIR if CONTRACTS_DIR.is_dir() else resources.files(__package__) / "_contracts"

NUMERIC_TYPES = ("int", "bigint", "double")
TIME_TRANSFORMS = ("day", "hour", "month")


class ContractError(ValueError):
    """A contract file that breaks the schema or a cross-field rule; names the file and each problem."""

    def __init__(self, file_name: str, problems: list[str]):
        self.file_name = file_name
        self.problems = problems
        super().__init__(f"Invalid dataset contract {file_name}:\n" + "\n".join(f"  - {p}" for p in problems))


def _validator(root):
    """contracts/contract.schema.json: the one definition of the contract format."""
    from jsonschema import Draft202012Validator  # on Glue, jsonschema comes with --additional-python-modules

    schema = json.loads((root / SCHEMA_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def cross_field_problems(contract: dict[str, Any], file_name: str) -> list[str]:
    """Rules a JSON Schema cannot express. Mirrors crossFieldProblems in TypeScript, message for message."""
    problems: list[str] = []
    expected_file = f"{contract['source']}.{contract['dataset']}.json"
    if file_name != expected_file:
        problems.append(f"file name: must be {expected_file}")
    by_name: dict[str, dict[str, Any]] = {}
    for column in contract["columns"]:
        name, col_type = column["name"], column["type"]
        if name in by_name:
            problems.append(f"columns.{name}: declared twice")
        by_name[name] = column
        lo, hi = column.get("min"), column.get("max")
        if lo is not None and hi is not None and lo > hi:
            problems.append(f"columns.{name}: min {js_number(lo)} is greater than max {js_number(hi)}")
        if (lo is not None or hi is not None) and col_type not in NUMERIC_TYPES:
            problems.append(f"columns.{name}: min/max apply only to numeric columns, not {col_type}")
        if "allowed" in column and col_type != "string":
            problems.append(f"columns.{name}: allowed values apply only to string columns, not {col_type}")
        if column.get("raw", {}).get("encoding") and col_type != "timestamp":
            problems.append(f"columns.{name}: raw.encoding applies only to timestamp columns")
        if column.get("raw", {}).get("encoding") == "legacy_mixed" and "legacyTimestamps" not in contract.get("raw", {}):
            problems.append(f"columns.{name}: raw.encoding legacy_mixed needs raw.legacyTimestamps (its formats, time zone and day order)")
    if "legacyTimestamps" in contract.get("raw", {}):
        problems += legacy_format_problems(contract["raw"]["legacyTimestamps"])
    for key_column in contract["key"]:
        column = by_name.get(key_column)
        if column is None:
            problems.append(f"key.{key_column}: not a declared column")
        elif not column.get("required", False):
            problems.append(f"key.{key_column}: a key column must be required")
    raw = contract.get("raw")
    if raw and "envelope" in raw and (raw["format"] != "json" or "metadataColumns" in raw):
        problems.append("raw.envelope: only a json raw layout without metadataColumns is read from an envelope")
    if raw:
        raw_names = {column.get("raw", {}).get("name", column["name"]).lower() for column in contract["columns"]}
        for extra in [*raw["partitions"], *raw.get("metadataColumns", [])]:
            if extra["name"].lower() in raw_names:
                problems.append(f"raw: {extra['name']} collides with a column's raw name")
            raw_names.add(extra["name"].lower())
    for spec in contract.get("processed", {}).get("partitioning", []):
        column = by_name.get(spec["column"])
        if column is None:
            problems.append(f"processed.partitioning.{spec['column']}: not a declared column")
        elif spec["transform"] in TIME_TRANSFORMS and column["type"] not in ("timestamp", "date"):
            problems.append(
                f"processed.partitioning.{spec['column']}: {spec['transform']} needs a date or timestamp column"
            )
    version = contract.get("processed", {}).get("versionColumn")
    if version is not None:
        column = by_name.get(version)
        if column is None:
            problems.append(f"processed.versionColumn: {version} is not a declared column")
        elif not column.get("required", False):
            problems.append(f"processed.versionColumn: {version} must be required (a row without a version cannot be ordered)")
    landing = contract.get("landing")
    if landing:
        column = by_name.get(landing["eventTime"])
        if column is None or column["type"] != "timestamp" or not column.get("required", False):
            problems.append(f"landing.eventTime: {landing['eventTime']} must be a required timestamp column")
        if landing["table"] == contract.get("processed", {}).get("table", contract["dataset"]):
            problems.append(f"landing.table: {landing['table']} is also the processed table's name")
    return problems


def legacy_format_problems(legacy: dict[str, Any]) -> list[str]:
    """A format that starts with a numeric day or month (03/01/2026) is ambiguous unless dayOrder
    names the order, and must agree with it (lib/contracts/index.ts, legacyFormatProblems)."""
    problems = []
    for i, fmt in enumerate(legacy["formats"]):
        lead = re.match(r"^(d{1,2}|M{1,2})(?![A-Za-z])", re.sub(r"^[^A-Za-z]+", "", re.sub(r"'[^']*'", "", fmt)))
        if not lead:
            continue
        first = "day_first" if lead.group(1).startswith("d") else "month_first"
        if "dayOrder" not in legacy:
            problems.append(f"raw.legacyTimestamps.formats.{i}: {fmt} is ambiguous between day and month; name the order in raw.legacyTimestamps.dayOrder")
        elif legacy["dayOrder"] != first:
            problems.append(f"raw.legacyTimestamps.formats.{i}: {fmt} is {first}, but dayOrder is {legacy['dayOrder']}")
    return problems


def js_number(value: float) -> str:
    """A number as JavaScript prints it (0.000001, 10, 2.5), so both loaders and both rule
    generators word numbers alike; Python's repr would give 1e-06."""
    if float(value).is_integer():
        return str(int(value))
    return format(value, "f").rstrip("0").rstrip(".") if abs(value) >= 1e-6 else repr(value)


def load_contract_file(path, schema_root=None) -> dict[str, Any]:
    """Parses and validates one contract file; raises ContractError naming every problem."""
    try:
        contract = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ContractError(path.name, [f"not valid JSON: {error}"]) from error
    errors = sorted(_validator(schema_root or _default_root()).iter_errors(contract), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractError(
            path.name, [f"/{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]
        )
    problems = cross_field_problems(contract, path.name)
    if problems:
        raise ContractError(path.name, problems)
    return contract


def load_contracts(directory=None) -> list[dict[str, Any]]:
    """Every contract in ``directory`` (default: the repository's, or the packaged copy), sorted by
    dataset; dataset names are unique across sources."""
    root = directory if directory is not None else _default_root()
    files = sorted((p for p in root.iterdir() if p.name.endswith(".json") and p.name != SCHEMA_FILE), key=lambda p: p.name)
    contracts = [load_contract_file(p, _default_root()) for p in files]
    seen: dict[str, str] = {}
    for c in contracts:
        if c["dataset"] in seen:
            raise ContractError(
                f"{c['source']}.{c['dataset']}.json",
                [f"dataset name {c['dataset']} is also used by source {seen[c['dataset']]}"],
            )
        seen[c["dataset"]] = c["source"]
    return sorted(contracts, key=lambda c: c["dataset"])


def contract_of(contracts: list[dict[str, Any]], dataset: str) -> dict[str, Any]:
    """The contract of one dataset; fails naming the datasets that exist."""
    for c in contracts:
        if c["dataset"] == dataset:
            return c
    known = ", ".join(c["dataset"] for c in contracts)
    raise KeyError(f"No contract for dataset '{dataset}'; known: {known}")


def raw_prefix(contract: dict[str, Any]) -> str:
    """Key prefix of a dataset in the raw zone: raw/<source>/<dataset>/."""
    return f"raw/{contract['source']}/{contract['dataset']}/"


def raw_day_path(contract: dict[str, Any], day: str) -> str:
    """Key prefix of one day of a dataset in the raw zone, as its writer lays it out: DMS writes
    <prefix><yyyy-MM-dd>/ (pathStyle values), Firehose and the pulls <prefix>ingest_date=<day>/."""
    raw = contract["raw"]
    if raw.get("pathStyle", "hive") == "values":
        return f"{raw_prefix(contract)}{day}/"
    return f"{raw_prefix(contract)}{raw['partitions'][0]['name']}={day}/"


def spark_ddl(contract: dict[str, Any]) -> str:
    """The contract's columns as a Spark schema string: `reading_id string, ts timestamp, ...`."""
    return ", ".join(f"`{c['name']}` {c['type']}" for c in contract["columns"])


def raw_json_ddl(contract: dict[str, Any]) -> str:
    """The raw JSON's fields by their raw names and raw types (epoch milliseconds as bigint, ISO
    8601 text as string), as a Spark schema string: reading with it spares Spark a pass over the
    batch to infer one (issue 17). A value of another type reads as null, which the contract's
    rules then quarantine with its reason."""
    return ", ".join(f"`{c.get('raw', {}).get('name', c['name'])}` {c.get('raw', {}).get('type', c['type'])}" for c in contract["columns"])


def required_columns(contract: dict[str, Any]) -> list[str]:
    """Columns whose absence sends a record to quarantine."""
    return [c["name"] for c in contract["columns"] if c.get("required", False)]
