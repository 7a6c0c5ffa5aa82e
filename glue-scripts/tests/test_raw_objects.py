"""An unreadable object in the raw zone (a GZIP object cut short, a Parquet file cut short, bytes
that are not the writer's format) is left out of its batch with its reason and counted, and the
rest of the day goes on (lakehouse.raw_objects); issue 16's fault-injection run injects the same."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lakehouse import pipelines, raw_objects
from lakehouse.contracts import contract_of, load_contracts
from test_pipelines import CUSTOMERS, T, reading, table_rows, write_dms_parquet

CONTRACTS = load_contracts()


def unreadable_listed(quarantine: Path, dataset: str, day: str) -> list[dict]:
    folder = quarantine / dataset / "unreadable_objects" / f"ingest_date={day}"
    return [json.loads(line) for f in sorted(folder.glob("*.json")) for line in f.read_text().splitlines()]


def gzip_ndjson(path: Path, rows) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    path.write_bytes(body)
    return body


def test_a_gzip_object_cut_short_is_left_out_with_its_reason_and_the_day_goes_on(spark, tmp_path):
    contract = contract_of(CONTRACTS, "telematics")
    table = "lake.processed_unreadable.telematics"
    quarantine = tmp_path / "quarantine"
    day = tmp_path / "raw/iot/telematics/ingest_date=2026-11-21"
    first = [reading("2026-11-21 10:00:00", 100.0, 10.0), reading("2026-11-21 10:05:00", 105.0, 10.5)]
    second = [reading("2026-11-21 11:00:00", 160.0, 16.0)]
    body = gzip_ndjson(day / "ingest_hour=10/a.gz", first)
    gzip_ndjson(day / "ingest_hour=11/b.gz", second)
    # A partial delivery of the first object, cut short before its end (its whole copy is above).
    (day / "ingest_hour=10/a-partial.gz").write_bytes(body[: len(body) // 2])
    stats = pipelines.run_telematics(spark, contract, str(day), table, str(quarantine), "2026-11-21")
    assert (stats.read, stats.written, stats.details["unreadable_objects"]) == (3, 3, 1)
    assert table_rows(spark, table, "ts") == [(T("2026-11-21 10:00:00"),), (T("2026-11-21 10:05:00"),), (T("2026-11-21 11:00:00"),)]
    (listed,) = unreadable_listed(quarantine, "telematics", "2026-11-21")
    assert listed["object"].endswith("ingest_hour=10/a-partial.gz")
    assert any("end of" in reason.lower() or "eof" in reason.lower() for reason in listed["reasons"]), listed
    # Replaced by a whole copy, the object is read on the rerun, and the list is empty again.
    gzip_ndjson(day / "ingest_hour=10/a-partial.gz", first)
    rerun = pipelines.run_telematics(spark, contract, str(day), table, str(quarantine), "2026-11-21")
    assert (rerun.details["unreadable_objects"], rerun.written) == (0, 0)
    assert unreadable_listed(quarantine, "telematics", "2026-11-21") == []


def test_a_parquet_change_file_cut_short_is_left_out_and_the_changes_apply(spark, tmp_path):
    contract = contract_of(CONTRACTS, "customers")
    table = "lake.processed_unreadable.customers"
    quarantine = tmp_path / "quarantine"
    c = T("2026-11-01 00:00:00")
    folder = Path(write_dms_parquet(spark, tmp_path / "raw/crm/customers/2026-11-21", [
        ("c1", "Acme", "enterprise", "ES", c, c, "I", T("2026-11-21 10:00:00")),
        ("c2", "Beta", "small_business", "ES", c, c, "I", T("2026-11-21 10:00:00")),
    ], CUSTOMERS))
    (good,) = folder.glob("*.parquet")
    (folder / "LOAD00000002.parquet").write_bytes(good.read_bytes()[:-40])  # the footer cut off
    (folder / "LOAD00000003.parquet").write_bytes(b"not parquet at all")
    stats = pipelines.run_cdc(spark, "customers", contract, str(folder), table, str(quarantine), "2026-11-21")
    assert (stats.read, stats.details["unreadable_objects"]) == (2, 2)
    assert table_rows(spark, table, "customer_id", "customer_name") == [("c1", "Acme"), ("c2", "Beta")]
    listed = unreadable_listed(quarantine, "customers", "2026-11-21")
    assert sorted(Path(x["object"]).name for x in listed) == ["LOAD00000002.parquet", "LOAD00000003.parquet"]
    assert all(x["reasons"] and x["reasons"][0] for x in listed)


def test_a_batch_of_nothing_readable_fails_naming_every_object(spark, tmp_path):
    day = tmp_path / "raw/weather/weather/ingest_date=2026-11-21"
    day.mkdir(parents=True)
    (day / "madrid.ndjson.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(raw_objects.NothingReadable, match=r"every raw object of the batch is unreadable: .*madrid\.ndjson\.gz \("):
        pipelines.run_weather(spark, contract_of(CONTRACTS, "weather"), str(day), "lake.processed_unreadable.weather", str(tmp_path / "q"), "2026-11-21", ["Madrid"])


def test_a_folder_without_objects_fails_with_sparks_reason(spark, tmp_path):
    """No object to blame: the failed read's own error, not a search among objects that are not there."""
    folder = tmp_path / "raw/crm/customers/2026-11-21"
    folder.mkdir(parents=True)
    with pytest.raises(Exception, match="(?i)unable to infer schema for parquet"):
        pipelines.run_cdc(spark, "customers", contract_of(CONTRACTS, "customers"), str(folder), "lake.processed_empty.customers", str(tmp_path / "q"), "2026-11-21")


def test_objects_spark_leaves_out_are_not_listed(spark, tmp_path):
    day = tmp_path / "raw/x/ingest_date=2026-11-21"
    for name in ("ingest_hour=01/a.json", "ingest_hour=01/_SUCCESS", "ingest_hour=01/.a.json.crc", "_temporary/0/b.json", "b.json"):
        (day / name).parent.mkdir(parents=True, exist_ok=True)
        (day / name).write_text("{}\n")
    listed = [p.split("ingest_date=2026-11-21/")[1] for p in raw_objects.list_objects(spark, str(day))]
    assert listed == ["b.json", "ingest_hour=01/a.json"]
    assert raw_objects.list_objects(spark, str(tmp_path / "missing")) == []
