"""The local run's plan: the steps in order, the daily Glue steps derived from the job registry
(lib/registry/jobs.json) as the stacks' state machine is, so a job added there runs here too."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Callable

from checks import check_ground_truth
from faults import deliver_cut_short_objects, deliver_dms_twice_out_of_order, fault_table, rerun, run_flink_killed_and_restored, start_fault_proxy
from runner import ROOT, Context, Step
from steps import (create_zones, generate, glue_aggregate, glue_cdc, glue_keyed, glue_landed, glue_maintenance, glue_telematics, glue_weather, kpi_queries, start_trino,
                   land_enriched, land_sources, mirror_raw, partner_files, put_device_updates, read_names, read_streams, replay_sensor_readings, run_flink,
                   put_live_telemetry, live_alerts, load_warehouse, run_pull, start_moto, start_spark, telematics_partner, kafka_topics, telematics_topic)

# The processing jobs, in pipeline order: the plan's Glue steps come from it, as the stacks' jobs do.
REGISTRY = ROOT / "lib" / "registry" / "jobs.json"


@functools.cache
def _registry() -> list[dict[str, Any]]:
    return json.loads(REGISTRY.read_text(encoding="utf-8"))["jobs"]


def registered_jobs(stage: str) -> list[dict[str, Any]]:
    return [job for job in _registry() if job["stage"] == stage]


# Kinds of job whose one entry point serves several datasets: their steps name the dataset.
SHARED_ENTRY_POINTS = ("cdc", "keyed", "landed")

# How the local run runs each kind of daily job (lib/registry/jobs.json, "pipeline").
SOURCE_STEPS: dict[str, Callable[[str, str], Callable[[Context], str]]] = {
    "cdc": glue_cdc,
    "keyed": glue_keyed,
    "landed": glue_landed,
    "telematics": lambda dataset, day: glue_telematics(day),
    "weather": lambda dataset, day: glue_weather(day),
}


def daily_glue_steps(day: str) -> list[Step]:
    """One day of the daily pipeline as the state machine runs it: every source job of the
    registry, in its order, then the aggregation."""
    steps = []
    for job in registered_jobs("sources"):
        dataset = job["outputs"][0]
        label = f"glue {Path(job['script']).stem}" + (f" {dataset}" if job["pipeline"] in SHARED_ENTRY_POINTS else "")
        steps.append((f"{label} {day}", SOURCE_STEPS[job["pipeline"]](dataset, day)))
    (aggregation,) = registered_jobs("aggregation")
    steps.append((f"glue {Path(aggregation['script']).stem} {day}", glue_aggregate(day)))
    return steps


def build_plan(ctx: Context) -> list[Step]:
    env = ctx.args.env
    streaming_only = ctx.args.only == "streaming"
    plan: list[Step] = [
        (f"read the {env} configuration (names, cities, schedules)", read_names),
        ("start moto_server on 127.0.0.1", start_moto),
        (f"create the lake buckets and streams as the {env} stacks name them", create_zones),
    ]
    faults = getattr(ctx.args, "faults", False)
    if faults:
        plan.append(("faults: a proxy before moto that answers S3 PutObject 500/503 and refuses and throttles Kinesis PutRecords", start_fault_proxy))
    if ctx.generated:
        plan.append((f"generate the sources: {ctx.args.vehicles} vehicles x {ctx.args.days} days", generate))
        if faults:
            plan.append(("faults: every DMS change file delivered twice, out of commit order", deliver_dms_twice_out_of_order))
            plan.append(("faults: a Parquet change file and a GZIP telemetry object cut short, beside their whole copies", deliver_cut_short_objects))
        if not streaming_only:
            plan.append(("land DMS extracts (Parquet) and telemetry (Firehose GZIP NDJSON) in the raw zone", land_sources))
            if telematics_partner(ctx.names):
                plan.append(("partner files over SFTP: the uploads, each checked by the deployed handler; accepted ones promoted into the raw zone", partner_files))
            if telematics_topic(ctx.names) and ctx.args.vehicles >= 3:
                plan.append(("a Kafka topic: one truck's readings through a local broker, the Firehose stand-in and the deployed record check into the raw zone", kafka_topics))
        plan.append(("write the fleet into the device registry; its changes onto their stream as DMS puts them", put_device_updates))
        for pull in ctx.names["pulls"]:
            if pull["layer"] == "streaming" or not streaming_only:
                plan.append((f"{pull['name']}: the deployed handler against its local stand-in API, every scheduled run", run_pull(pull["name"])))
    else:
        if not streaming_only:
            plan.append((f"upload the supplied raw zone from {ctx.args.raw}", land_sources))
        plan += [
            ("put the supplied device registry updates on their stream", put_device_updates),
            ("put the supplied raw sensor readings on their stream", replay_sensor_readings),
        ]
    if ctx.generated:
        plan += [
            ("put an hour of live telemetry with planted episodes on the telemetry stream", put_live_telemetry),
            ("live alerts: the alerts function over the telemetry stream, the silent-vehicle check on its schedule", live_alerts),
        ]
    plan += [
        ("mirror the raw zone for local Spark", mirror_raw),
        ("start local Spark with Iceberg", start_spark),
        # The streaming job runs continuously on AWS, ahead of the daily jobs that read its landing.
        ("read the sensor-readings and device-updates streams", read_streams),
        ("flink enrichment on a local mini cluster", run_flink) if not faults else
        ("faults: flink enrichment killed mid-stream and restarted from its last checkpoint", run_flink_killed_and_restored),
        ("land enriched readings (Parquet by hour) and rejected readings (quarantine), as the two Firehoses do", land_enriched),
    ]
    if not streaming_only:
        for i, day in enumerate(ctx.days):
            plan += daily_glue_steps(day)
            if faults and i == 0:
                plan += rerun(daily_glue_steps(day))  # the same day run twice
        if faults:
            plan += rerun(daily_glue_steps(ctx.days[0]))  # an older day rerun after a later one
        if ctx.args.backfill:
            first, last = ctx.args.backfill
            plan.append((f"glue aggregate_metrics backfill {first} .. {last}", glue_aggregate(last, backfill_from=first)))
        plan.append(("glue iceberg_maintenance", glue_maintenance))
    if not streaming_only:
        plan += [
            ("start a local Trino, Athena's engine, over the aggregated table", start_trino),
            ("KPIs of the catalogue (queries/*.sql) on Trino as Athena runs them, checked against Spark", kpi_queries),
            ("the warehouse on a local PostgreSQL: migrations, every KPI date loaded, the mart checked against telemetry_metrics", load_warehouse),
        ]
    if ctx.generated:
        plan.append(("check results against the generator's ground truth", check_ground_truth))
    if faults:
        plan.append(("faults: per fault, records in and out, quarantined, lost and duplicated; the KPIs", fault_table))
    return plan
