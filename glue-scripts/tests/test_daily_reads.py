"""A daily run reads the files of the days it works on, not the table's history (issue 17,
docs/decisions.md 158, 159). What a run read is taken from Spark's own record of each scan of the run
(the SQL executions' BatchScan metrics: data files and rows), so the tests measure what Iceberg
planned, not what the code asks for.

The fleet: vehicles v1 and v2 report at 10:00 and 10:05 on each of four days (one batch a day, so
one data file a day); the fifth day's batch brings its own readings and a late one of the fourth
day's, for v1 alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from lakehouse import pipelines, vehicle_days
from lakehouse.contracts import contract_of, load_contracts
from lakehouse.iceberg import on_days
from test_late_data import MADRID_10, Lake, customer, reading, shipment
from test_pipelines import write_ndjson

CONTRACTS = load_contracts()
DAYS = ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"]


def scans(spark, table: str, after: int) -> list[dict]:
    """The BatchScans of `table` in the SQL executions after execution `after`: the columns each
    read, its data files and its rows."""
    store = spark._jsparkSession.sharedState().statusStore()
    found = []
    executions = store.executionsList().iterator()
    while executions.hasNext():
        execution = executions.next()
        if execution.executionId() <= after:
            continue
        values = store.executionMetrics(execution.executionId())
        nodes = store.planGraph(execution.executionId()).allNodes().iterator()
        while nodes.hasNext():
            node = nodes.next()
            if node.name() != f"BatchScan {table}":
                continue
            metrics, each = {}, node.metrics().iterator()
            while each.hasNext():
                metric = each.next()
                value = values.get(metric.accumulatorId())
                if value.isDefined():
                    metrics[metric.name()] = int(value.get().replace(",", ""))
            columns = node.desc().split("[", 1)[1].split("]", 1)[0]
            found.append({"columns": sorted(c.split("#")[0] for c in columns.split(", ")), "files": metrics.get("number of result data files", 0),
                          "rows": metrics.get("number of output rows", 0)})
    return found


def last_execution(spark) -> int:
    store = spark._jsparkSession.sharedState().statusStore()
    ids = [-1]
    executions = store.executionsList().iterator()
    while executions.hasNext():
        ids.append(executions.next().executionId())
    return max(ids)


def two_vehicles(day: str) -> list[dict]:
    return [{**reading(m, day), "vehicle_id": v} for v in ("v1", "v2") for m in (0, 5)]


def test_on_days_keeps_exactly_the_rows_of_its_days(spark):
    stamps = ["2026-11-20 23:59:59.999999", "2026-11-21 00:00:00", "2026-11-22 12:00:00", "2026-11-23 23:59:59.999999", "2026-11-24 00:00:00",
              "2026-11-25 00:00:00", "2026-11-25 23:59:59", "2026-11-26 00:00:00"]
    frame = spark.createDataFrame([(datetime.fromisoformat(s),) for s in stamps], "ts timestamp")
    days = [date(2026, 11, 23), date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 25)]
    condition = on_days("ts", days)
    assert condition.count(" OR ") == 1  # 21-23 is one range, 25 another
    kept = sorted(str(r[0]) for r in frame.where(condition).collect())
    assert kept == ["2026-11-21 00:00:00", "2026-11-22 12:00:00", "2026-11-23 23:59:59.999999", "2026-11-25 00:00:00", "2026-11-25 23:59:59"]
    assert frame.where(on_days("ts", [])).count() == 0


def test_a_daily_run_reads_only_the_files_of_the_days_it_works_on(spark, tmp_path):
    lake = Lake(spark, tmp_path)
    contract = contract_of(CONTRACTS, "telematics")
    table = lake.tables["telematics"]
    for day in DAYS[:4]:
        pipelines.run_telematics(spark, contract, write_ndjson(tmp_path / day, two_vehicles(day)), table, lake.quarantine, day)
    assert spark.sql(f"SELECT count(*) FROM {table}.files").first()[0] == 4  # a file a day
    lake.run_day(DAYS[0], shipments=[shipment("I", f"{DAYS[0]} 08:00:00")], customers=[customer("I", f"{DAYS[0]} 00:00:00")], observations=[MADRID_10])

    late = {**reading(7, DAYS[3]), "vehicle_id": "v1"}  # 10:07 on the fourth day, delivered with the fifth
    before = last_execution(spark)
    stats = pipelines.run_telematics(spark, contract, write_ndjson(tmp_path / DAYS[4], [*two_vehicles(DAYS[4]), late]), table, lake.quarantine, DAYS[4])
    assert stats.written == 5
    # The summary of each vehicle-day's last reading reflected the table: nothing was rebuilt.
    assert stats.details["vehicle_days_rebuilt"] == 0
    read = scans(spark, table, before)
    # The touched days are v1's fourth to sixth and v2's fifth and sixth: the table holds the fourth
    # day's file alone of them. The readings before them lie on the third day (v1) and the fourth
    # (v2), found with their counters on the summary. Every read of the table, the MERGE's
    # included, reads that one file: none covers the history, nor the predecessors' days
    # (docs/decisions.md 158-160).
    assert read and all(s["files"] == 1 for s in read)
    assert scans(spark, vehicle_days.table_of(table), before)  # the predecessors came from the summary
    merge_reads = [s for s in read if "_file" in s["columns"] or "_pos" in s["columns"]]
    assert merge_reads and all(s["files"] == 1 and s["rows"] == 4 for s in merge_reads)
    # the late reading's neighbours were recomputed: v1's 10:05 -> 10:07 -> (next day) intervals
    late_row = spark.table(table).where(f"vehicle_id = 'v1' AND ts = timestamp'{DAYS[3]} 10:07:00'").select("interval_status").first()
    assert late_row["interval_status"] == "ok"

    before = last_execution(spark)
    run = lake.aggregate(DAYS[4])
    assert run.lists["dates_recomputed"] == DAYS[3:]
    read = scans(spark, table, before)
    # the data files of the two days recomputed (the fourth day's MERGE added one), of the table's 6
    theirs = spark.sql(f"SELECT count(*) FROM {table}.data_files WHERE partition.ts_day >= DATE'{DAYS[3]}'").first()[0]
    assert (theirs, spark.sql(f"SELECT count(*) FROM {table}.data_files").first()[0]) == (3, 6)
    assert read and all(s["files"] == theirs for s in read)
    assert all(s["rows"] == 9 for s in read)  # the fourth day's 5 readings and the fifth's 4


@pytest.mark.parametrize("days, ranges", [(["2026-11-21"], 1), (["2026-11-21", "2026-11-23"], 2), (["2026-11-22", "2026-11-21", "2026-11-22"], 1)])
def test_on_days_writes_one_range_per_run_of_consecutive_days(days, ranges):
    condition = on_days("t.ts", [date.fromisoformat(d) for d in days])
    assert condition.count("t.ts >=") == ranges
    first = min(days)
    assert f"t.ts >= TIMESTAMP '{first} 00:00:00'" in condition
    last = date.fromisoformat(max(days)) + timedelta(days=1)
    assert f"t.ts < TIMESTAMP '{last} 00:00:00'" in condition
