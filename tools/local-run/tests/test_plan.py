"""The local run's plan follows the job registry (lib/registry/jobs.json), as the stacks do: a job
added there gets its step in the run, and the KPI reads what the registry says it reads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import functools
import subprocess

import plan
import runner
import synthetic
import steps

REGISTRY = json.loads(plan.REGISTRY.read_text())["jobs"]


@functools.cache
def dev_names() -> dict:
    """What the run reads first: the names and pull functions platform.ts derives from the stacks' code."""
    result = subprocess.run([str(steps.TS_NODE), "--transpile-only", str(steps.PLATFORM_TS), "names", "dev"], cwd=runner.ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def plan_of(**options) -> list[str]:
    args = argparse.Namespace(**{"raw": None, "only": None, "backfill": None, "env": "dev", "vehicles": 1, "days": 2, "start": "2026-11-02", "horizon_days": None, **options})
    ctx = runner.Context(args, Path("/nonexistent"))
    ctx.days = ["2026-11-02", "2026-11-03"]
    ctx.names = dev_names()
    return [name for name, _ in plan.build_plan(ctx)]


def test_every_pull_function_of_the_registry_runs_with_its_generated_inputs():
    pulls = dev_names()["pulls"]
    assert {p["name"] for p in pulls} == {"weather-pull", "sensor-pull"}
    for pull in pulls:
        assert pull["name"] in synthetic.PULL_INPUTS, f"{pull['name']}: no generated inputs in synthetic.PULL_INPUTS"
        assert any(step.startswith(f"{pull['name']}: ") for step in plan_of())
    streaming = [step.split(":")[0] for step in plan_of(only="streaming") if step.endswith("every scheduled run")]
    assert streaming == [p["name"] for p in pulls if p["layer"] == "streaming"]


def test_every_daily_job_of_the_registry_has_its_step_each_day_in_the_pipeline_order():
    glue_steps = [name for name in plan_of() if name.startswith("glue ") and "maintenance" not in name]
    sources = [job for job in REGISTRY if job["stage"] == "sources"]
    per_day = [f"glue {Path(j['script']).stem}" + (f" {j['outputs'][0]}" if j["pipeline"] in plan.SHARED_ENTRY_POINTS else "") for j in sources] + ["glue aggregate_metrics"]
    assert glue_steps == [f"{step} {day}" for day in ("2026-11-02", "2026-11-03") for step in per_day]
    assert all(j["pipeline"] in plan.SOURCE_STEPS for j in sources)  # every kind of source job can run locally


def test_a_landed_job_runs_after_the_streaming_steps_that_fill_its_landing():
    steps = plan_of()
    landing = next(i for i, name in enumerate(steps) if name.startswith("land enriched readings"))
    landed = [i for i, name in enumerate(steps) if name.startswith("glue landed_etl ")]
    assert landed and min(landed) > landing


def test_the_kpi_reads_the_aggregation_jobs_inputs():
    from lakehouse import pipelines

    (aggregation,) = [job for job in REGISTRY if job["stage"] == "aggregation"]
    assert sorted(pipelines.KPI_INPUTS) == sorted(aggregation["inputs"])
    # and writes what the registry says: the KPI first (its --metrics_table), the intervals and the ledger of recomputed dates beside it
    assert aggregation["outputs"] == ["telemetry_metrics", pipelines.INTERVALS_TABLE, pipelines.RECOMPUTED_TABLE]


def test_each_job_keeps_the_state_tables_the_registry_lists_for_maintenance():
    """The stack's maintenance job compacts and expires the tables of `keeps`: a state table a
    job creates under another name would grow unmaintained."""
    from lakehouse import cdc, kpi_dates, pipelines, vehicle_days

    def created(job: dict) -> list[str]:
        dataset = job["outputs"][0] if job["outputs"] else ""
        if job["pipeline"] == "cdc":
            return [f"{dataset}{cdc.TOMBSTONE_SUFFIX}"] + ([f"{dataset}{cdc.HISTORY_SUFFIX}"] if pipelines.CDC_SOURCES[dataset].keeps_history else [])
        if job["pipeline"] == "telematics":
            return [vehicle_days.table_of(dataset)]
        if job["pipeline"] == "landed":
            return [pipelines.landed_dates_table(dataset)]
        if job["pipeline"] == "aggregation":
            return [kpi_dates.TABLE_NAME]  # the ledger the source jobs append to and the aggregation consumes
        return []

    assert {job["name"]: job.get("keeps", []) for job in REGISTRY} == {job["name"]: created(job) for job in REGISTRY}


def test_streaming_only_runs_no_glue_step():
    assert not [name for name in plan_of(only="streaming") if name.startswith("glue ")]


def test_flows_refuse_an_unknown_counter_and_keep_the_report_shape():
    from flows import Flows

    flows = Flows()
    flows.add("telematics", glue_read=3, glue_written=2)
    flows.add("telematics", glue_read=1)
    flows.interval_outcomes = {"complete": 5}
    try:
        flows.add("telematics", glue_writen=1)
    except KeyError as error:
        assert "glue_writen" in str(error)
    else:
        raise AssertionError("a misspelt counter was accepted")
    assert flows.of("telematics").count("glue_read") == 4
    assert flows.of("weather").count("raw_rows") == 0
    assert flows.as_json() == {"telematics": {"glue_read": 4, "glue_written": 2}, "intervals": {"complete": 5}}


def test_the_fault_run_adds_its_injections_and_reruns_around_the_normal_plan():
    normal, faulty = plan_of(), plan_of(faults=True)
    # Everything the normal run does, in the same order, with the faults' steps among it; the
    # Flink job is the one killed and restarted, in the same place.
    flink, killed = "flink enrichment on a local mini cluster", "faults: flink enrichment killed mid-stream and restarted from its last checkpoint"
    assert faulty.index(killed) == faulty.index("read the sensor-readings and device-updates streams") + 1
    assert [step for step in faulty if step in normal] == [step for step in normal if step != flink]
    added = [step for step in faulty if step not in normal and step != killed]
    day_one = [step for step in normal if step.startswith("glue ") and step.endswith("2026-11-02")]
    assert added == [
        "faults: a proxy before moto that answers S3 PutObject 500/503 and refuses and throttles Kinesis PutRecords",
        "faults: every DMS change file delivered twice, out of commit order",
        "faults: a Parquet change file and a GZIP telemetry object cut short, beside their whole copies",
        *[f"{step} (again)" for step in day_one],  # the same day twice
        *[f"{step} (again)" for step in day_one],  # and again after the last day
        "faults: per fault, records in and out, quarantined, lost and duplicated; the KPIs",
    ]
    # the first day's second run comes right after its first; the last rerun after the last day's aggregation
    assert faulty.index(f"{day_one[0]} (again)") == faulty.index(day_one[-1]) + 1
    last_rerun = len(faulty) - 1 - faulty[::-1].index(f"{day_one[0]} (again)")
    assert last_rerun > faulty.index("glue aggregate_metrics 2026-11-03")
    assert faulty[-1] == "faults: per fault, records in and out, quarantined, lost and duplicated; the KPIs"
