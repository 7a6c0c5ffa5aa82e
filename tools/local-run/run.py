"""The platform's data path on one machine, with no AWS account: `npm run local -- [options]`.

moto_server on 127.0.0.1 plays S3 and Kinesis, with the buckets and streams named as the chosen
environment's stacks name them. The sources land in the raw zone the way their writers write
them (DMS Parquet, Firehose GZIP NDJSON), the weather and sensor pulls run their deployed
handlers against local API stand-ins, the Glue jobs run on local Spark with Iceberg, the Flink
enrichment on a local mini cluster, and the KPIs are computed with the Athena named queries.
Every step prints its timing; a failure names the step, its cause and what was left behind.

Options: `npm run local -- --help`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT / "glue-scripts"), str(ROOT / "flink-app"), str(HERE)]

import synthetic  # noqa: E402
import zones  # noqa: E402

MARKER = ".telemetry-lakehouse-local-run"
# The processing jobs, in pipeline order: the plan's Glue steps come from it, as the stacks' jobs do.
REGISTRY = ROOT / "lib" / "registry" / "jobs.json"
TS_NODE = ROOT / "node_modules" / ".bin" / "ts-node"
PLATFORM_TS = HERE / "platform.ts"


class StepFailed(Exception):
    def __init__(self, step: str, cause: str):
        super().__init__(f"{step}: {cause}")
        self.step = step
        self.cause = cause


@dataclass
class StepRecord:
    name: str
    status: str  # ok, failed, skipped
    seconds: float
    summary: str = ""


@dataclass
class Context:
    args: argparse.Namespace
    out: Path
    names: dict[str, Any] = field(default_factory=dict)
    moto: zones.Moto | None = None
    spark: Any = None
    days: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    expected: synthetic.Expected | None = None
    fleet: synthetic.Fleet | None = None
    # dataset -> counts through the zones (read, quarantined, written, ...)
    flows: dict[str, dict[str, int]] = field(default_factory=dict)
    kpis: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    committed_tables: list[str] = field(default_factory=list)
    # metric date -> interval outcome -> count, as the latest aggregation that recomputed the date
    # left it: a late batch recomputes an earlier date, whose counts then replace the first ones.
    outcomes_by_date: dict[str, dict[str, int]] = field(default_factory=dict)
    # KPI dates a late change reached beyond the horizon, as the last aggregation reported them
    dates_beyond_horizon: list[str] = field(default_factory=list)

    @property
    def generated(self) -> bool:
        return self.args.raw is None

    @property
    def horizon_days(self) -> int:
        """The KPI's lateness horizon: the environment's, unless --horizon-days overrides it."""
        return self.args.horizon_days or self.names["latenessHorizonDays"]

    def path(self, *parts: str) -> Path:
        return self.out.joinpath(*parts)

    def table(self, zone: str, name: str) -> str:
        return f"lake.{self.names['databases'][zone]}.{name}"

    def add_flow(self, dataset: str, **counts: int) -> None:
        flow = self.flows.setdefault(dataset, {})
        for k, v in counts.items():
            flow[k] = flow.get(k, 0) + int(v)


JAVA_FRAME = re.compile(r"^\s+at [\w$.<>]+\(")


def cause_of(error: BaseException) -> str:
    """The first lines of an error: a Spark or Flink error carries a whole Java stack after them."""
    text = f"{type(error).__name__}: {error}".strip()
    lines = [line for line in text.splitlines() if line.strip() and not JAVA_FRAME.match(line)][:3]
    short = "\n    ".join(lines)
    return short if len(short) < 1500 else short[:1500] + " ..."


class Steps:
    def __init__(self, ctx: Context, plan: list[tuple[str, Callable[[Context], str | None]]]):
        self.ctx = ctx
        self.plan = plan
        self.records: list[StepRecord] = []

    def run(self) -> None:
        width = len(str(len(self.plan)))
        for i, (name, action) in enumerate(self.plan, 1):
            print(f"[{i:>{width}}/{len(self.plan)}] {name} ...", end="", flush=True)
            started = time.perf_counter()
            try:
                summary = action(self.ctx) or ""
            except Exception as error:  # every failure is reported with its step, then re-raised
                seconds = time.perf_counter() - started
                self.records.append(StepRecord(name, "failed", seconds, cause_of(error)))
                print(f" FAILED after {seconds:.1f} s")
                with open(self.ctx.path("local-run.log"), "a", encoding="utf-8") as log:
                    log.write(f"step failed: {name}\n{traceback.format_exc()}\n")
                raise StepFailed(name, cause_of(error)) from error
            seconds = time.perf_counter() - started
            status = "skipped" if summary.startswith("skipped: ") else "ok"
            summary = summary.removeprefix("skipped: ")
            self.records.append(StepRecord(name, status, seconds, summary))
            print(f" {status} {seconds:.1f} s{': ' + summary if summary else ''}", flush=True)


# ---------------------------------------------------------------------------------------------
# Steps


def read_names(ctx: Context) -> str:
    result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), "names", ctx.args.env], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"platform.ts names failed: {result.stderr.strip()[-1500:]}")
    ctx.names = json.loads(result.stdout)
    if ctx.generated:
        ctx.cities = [c["name"] for c in ctx.names["cities"]]
    return f"buckets {', '.join(ctx.names['buckets'].values())}"


def start_moto(ctx: Context) -> str:
    ctx.moto = zones.Moto.start(ROOT / ".venv" / "bin" / "moto_server", ctx.path("logs", "moto.log"), ctx.names["region"])
    return f"listening on {ctx.moto.endpoint}"


def create_zones(ctx: Context) -> str:
    created = zones.create_buckets_and_streams(ctx.moto, ctx.names)
    return created


def generate(ctx: Context) -> str:
    fleet = synthetic.Fleet(ctx.args.vehicles, ctx.args.days, date.fromisoformat(ctx.args.start), ctx.names["cities"])
    ctx.fleet = fleet
    ctx.expected = synthetic.generate(fleet, ctx.path("sources", "landing"), ctx.path("sources", "api"), ctx.path("sources", "streams"))
    e = ctx.expected
    return (f"{e.telematics_raw_rows:,} telemetry messages, {e.shipments_raw_rows:,} shipment and {e.customers_raw_rows} customer changes, "
            f"{e.sensor_readings_served:,} sensor readings and {len(fleet.cities)} x {fleet.days} weather days for the APIs")


def land_sources(ctx: Context) -> str:
    landing = ctx.path("sources", "landing") if ctx.generated else Path(ctx.args.raw)
    count, size = zones.upload_tree(ctx.moto, ctx.names["buckets"]["raw"], landing / "raw", "raw/")
    return f"{count} objects, {size / 1e6:.1f} MB into s3://{ctx.names['buckets']['raw']}/raw/"


def put_device_updates(ctx: Context) -> str:
    source = ctx.path("sources", "streams", "device_updates.ndjson") if ctx.generated else Path(ctx.args.raw) / "streams" / "device_updates.ndjson"
    if not source.exists():
        return "skipped: no device updates supplied (every reading will be NO_DEVICE_RECORD)"
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    zones.put_lines(ctx.moto, ctx.names["streams"]["deviceUpdates"], lines, key_field="sensor_id")
    return f"{len(lines)} records on {ctx.names['streams']['deviceUpdates']}"


def run_pull(ctx: Context, which: str) -> str:
    fleet = ctx.fleet
    plan: dict[str, Any] = {"envName": ctx.args.env, "endpoint": ctx.moto.endpoint, "summaryFile": str(ctx.path("logs", f"{which}-pull.json"))}
    if which == "weather":
        plan["weather"] = {"answersFile": str(ctx.path("sources", "api", "weather-answers.json")), "invocations": synthetic.weather_pull_times(fleet)}
    else:
        every, window = ctx.names["sensorPull"]["everyMinutes"], ctx.names["sensorPull"]["windowMinutes"]
        plan["sensors"] = {"readingsFile": str(ctx.path("sources", "api", "sensor-readings.json")), "invocations": synthetic.sensor_pull_times(fleet, every, window)}
    plan_file = ctx.path("logs", f"{which}-pull-plan.json")
    plan_file.write_text(json.dumps(plan))
    log = ctx.path("logs", f"{which}-pull.log")
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), "pull", str(plan_file)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "NODE_OPTIONS": "--no-warnings"})
    if result.returncode != 0:
        raise RuntimeError(f"the {which} pull process failed (exit {result.returncode}); its log: {log}\n{log.read_text()[-1500:]}")
    summary = json.loads(Path(plan["summaryFile"]).read_text())["weather" if which == "weather" else "sensors"]
    if summary["failures"]:
        first = summary["failures"][0]
        raise RuntimeError(f"{len(summary['failures'])} of {summary['invocations']} {which}-pull invocations failed; first at {first['time']}: {first['error']} (log: {log})")
    runs = f"{summary['invocations']} scheduled run{'s' if summary['invocations'] != 1 else ''}"
    if which == "weather":
        return f"{runs}, each pulling a whole day of {len(ctx.cities)} cities"
    return f"{runs}, {sum(r['readings'] for r in summary['results']):,} readings put on {ctx.names['streams']['sensorReadings']}"


def replay_sensor_readings(ctx: Context) -> str:
    """User data: the raw sensor Parquet is what the pull wrote; it put the same rows on the stream."""
    files = sorted(Path(ctx.args.raw).glob("raw/sensors/sensor_readings/ingest_date=*/*.parquet"))
    if not files:
        return "skipped: no raw sensor readings supplied (the Flink steps will be skipped)"
    count = zones.replay_parquet(ctx.moto, ctx.names["streams"]["sensorReadings"], files, key_field="reading_id")
    return f"{count:,} readings from {len(files)} files put on {ctx.names['streams']['sensorReadings']}"


def mirror_raw(ctx: Context) -> str:
    count, size = zones.download_bucket(ctx.moto, ctx.names["buckets"]["raw"], ctx.path("raw-zone"))
    flows = zones.raw_zone_counts(ctx.path("raw-zone"))
    for dataset, counts in flows.items():
        ctx.add_flow(dataset, **counts)
    if not ctx.generated:
        ctx.cities = zones.weather_cities(ctx.path("raw-zone"))
    unreadable = {d: c["raw_unreadable_objects"] for d, c in flows.items() if c.get("raw_unreadable_objects")}
    warning = f"; unreadable, left for their job to report: {unreadable}" if unreadable else ""
    return f"{count} objects, {size / 1e6:.1f} MB to {ctx.path('raw-zone')} (local Spark reads files where Glue reads s3://){warning}"


def start_spark(ctx: Context) -> str:
    from lakehouse.spark import local_session

    ctx.spark = local_session("local-platform-run", str(ctx.path("warehouse")))
    ctx.spark.sparkContext.setLogLevel("ERROR")
    return f"Spark {ctx.spark.version}, Iceberg catalog 'lake' at {ctx.path('warehouse')}"


def glue_etl(dataset: str, day: str, run: Callable[..., Any], describe: Callable[[Any], str], flows: Callable[[Any], dict[str, int]] = lambda stats: {}) -> Callable[[Context], str]:
    """A processing job of one day, as its Glue entry point calls it: the day's raw path (as the
    dataset's writer lays it out), the processed table, the quarantine root."""
    def action(ctx: Context) -> str:
        from lakehouse.contracts import contract_of, load_contracts, raw_day_path

        contract = contract_of(load_contracts(), dataset)
        raw = ctx.path("raw-zone", raw_day_path(contract, day))
        if not raw.exists():
            return f"skipped: nothing in the raw zone under {raw_day_path(contract, day)}"
        table = ctx.table("processed", dataset)
        stats = run(ctx, contract, str(raw), table, str(ctx.path("processed-zone", "quarantine")))
        ctx.committed_tables.append(table)
        ctx.add_flow(dataset, glue_read=stats.read, glue_quarantined=stats.quarantined, glue_written=stats.written, **flows(stats))
        return describe(stats)
    return action


def glue_cdc(dataset: str, day: str) -> Callable[[Context], str]:
    from lakehouse import pipelines

    return glue_etl(
        dataset, day,
        lambda ctx, contract, raw, table, quarantine: pipelines.run_cdc(ctx.spark, dataset, contract, raw, table, quarantine, day),
        lambda stats: f"{stats.read} changes read, {stats.quarantined} quarantined, {stats.written} applied",
    )


def glue_telematics(day: str) -> Callable[[Context], str]:
    from lakehouse import pipelines

    def describe(stats) -> str:
        intervals = ", ".join(f"{k.removeprefix('intervals_')} {v:,}" for k, v in sorted(stats.details.items()) if k.startswith("intervals_"))
        return (f"{stats.read:,} read, {stats.quarantined} quarantined, {stats.details['duplicates']} duplicates dropped (this batch's copies and "
                f"copies of readings already in the table), {stats.written:,} new readings written; intervals recomputed: {intervals}")

    return glue_etl(
        "telematics", day,
        lambda ctx, contract, raw, table, quarantine: pipelines.run_telematics(ctx.spark, contract, raw, table, quarantine, day),
        describe,
        lambda stats: {"duplicates_dropped": stats.details["duplicates"]},
    )


def glue_weather(day: str) -> Callable[[Context], str]:
    from lakehouse import pipelines

    return glue_etl(
        "weather", day,
        lambda ctx, contract, raw, table, quarantine: pipelines.run_weather(ctx.spark, contract, raw, table, quarantine, day, ctx.cities),
        lambda stats: (f"{stats.read} observations read, {stats.quarantined} quarantined, {stats.written} city-hours written "
                       f"({stats.details['missing_hours']} missing, flagged; {stats.details['rows_for_other_days']} for an earlier day, taken for it)"),
        lambda stats: {"missing_hours": stats.details["missing_hours"], "rows_for_other_days": stats.details["rows_for_other_days"]},
    )


def glue_aggregate(day: str, backfill_from: str | None = None) -> Callable[[Context], str]:
    """The KPI as the state machine runs it: the daily run for `day` (every date the batches
    changed, within the horizon), or a backfill of backfill_from .. day."""
    def action(ctx: Context) -> str:
        from lakehouse import pipelines

        tables = pipelines.kpi_input_tables(f"lake.{ctx.names['databases']['processed']}")
        missing = [name for name in ("telematics", "weather", "shipments") if not ctx.spark.catalog.tableExists(tables[name])]
        if missing:
            # A day before the first telemetry or weather (a DMS full load dated earlier): what its
            # batches changed stays in the ledger for the first aggregation that has every input.
            return f"skipped: no {' or '.join(missing)} processed yet; the changes recorded so far wait for the next day's run"
        table = ctx.table("aggregated", "telemetry_metrics")
        stats = pipelines.run_aggregation(ctx.spark, tables, table, day, horizon_days=ctx.horizon_days, backfill_from=backfill_from)
        ctx.committed_tables.append(table)
        ctx.outcomes_by_date.update(stats.outcomes_by_date)
        ctx.dates_beyond_horizon = stats.lists["dates_beyond_horizon"]
        ctx.flows["intervals"] = {}
        for outcomes in ctx.outcomes_by_date.values():
            ctx.add_flow("intervals", **outcomes)
        # The KPI table as it stands: intervals of every date so far in, rows out.
        ctx.flows["telemetry_metrics"] = {"glue_read": sum(ctx.flows["intervals"].values()), "glue_written": ctx.spark.table(table).count()}
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.details.items()) if not k.startswith("dates_"))
        recomputed = ", ".join(stats.lists["dates_recomputed"])
        beyond = (f"; changed beyond the {ctx.horizon_days}-day horizon, not recomputed (alarmed on AWS; --backfill recomputes them): "
                  f"{', '.join(ctx.dates_beyond_horizon)}") if ctx.dates_beyond_horizon else ""
        return f"dates recomputed: {recomputed}; {stats.read:,} intervals -> {stats.written} KPI rows; outcomes: {outcomes}{beyond}"
    return action


def glue_maintenance(ctx: Context) -> str:
    from lakehouse import pipelines

    tables = sorted(set(ctx.committed_tables))
    stats = pipelines.run_maintenance(ctx.spark, tables, ctx.names["snapshotRetentionDays"])
    rewritten = sum(stats.details.values())
    return f"{len(tables)} tables compacted ({rewritten} files rewritten), snapshots expired, orphans removed"


def read_streams(ctx: Context) -> str:
    flink_dir = ctx.path("flink")
    readings = zones.read_stream(ctx.moto, ctx.names["streams"]["sensorReadings"], flink_dir / "readings" / "part-0.json")
    devices = zones.read_stream(ctx.moto, ctx.names["streams"]["deviceUpdates"], flink_dir / "devices" / "part-0.json")
    ctx.add_flow("sensor_readings", stream_records=readings)
    ctx.add_flow("device_updates", stream_records=devices)
    return f"{readings:,} sensor readings and {devices} device updates, in arrival order, as the Flink sources' input"


CAUSED_BY = re.compile(r"^Caused by: (.+)$", re.MULTILINE)


def flink_failure(error: BaseException) -> str:
    """The reason a Flink job failed: the deepest 'Caused by' of its Java trace (for example
    'Fail to deserialize at field: updated_at'), not the wrapper's 'Failed to wait job finish'."""
    causes = CAUSED_BY.findall(str(error))
    return causes[-1].strip() if causes else cause_of(error)


def run_flink(ctx: Context) -> str:
    if not ctx.flows.get("sensor_readings", {}).get("stream_records"):
        return "skipped: no sensor readings on the stream"
    from enrichment.local import run_on_files

    flink = ctx.names["flink"]
    out = ctx.path("flink", "enriched")
    try:
        run_on_files(
            str(ctx.path("flink", "readings")),
            str(ctx.path("flink", "devices")),
            str(out),
            str(ctx.path("flink", "rejected")),
            readings_max_delay_seconds=flink["readingsMaxDelaySeconds"],
            device_updates_max_delay_seconds=flink["deviceUpdatesMaxDelaySeconds"],
            state_ttl_hours=flink["stateTtlHours"],
            parallelism=1,
        )
    except Exception as error:
        raise RuntimeError(f"the Flink job failed: {flink_failure(error)}") from error
    return f"enriched readings written to {out}, rejected readings to {ctx.path('flink', 'rejected')}"


def land_enriched(ctx: Context) -> str:
    """As the two Firehose deliveries write the job's output: the enriched readings as Parquet with
    the enriched contract's types, by the reading's date and hour; the rejected readings as JSON
    lines with their reasons under the processed zone's quarantine."""
    if not ctx.flows.get("sensor_readings", {}).get("stream_records"):
        return "skipped: no enriched readings"
    from enrichment import contracts
    from lakehouse.contracts import spark_ddl
    from pyspark.sql import functions as F

    enriched = ctx.spark.read.schema(spark_ddl(contracts.contract(contracts.ENRICHED))).json(str(ctx.path("flink", "enriched")))
    target = ctx.path("processed-zone", "sensor_readings")
    (enriched.withColumn("event_date", F.date_format("ts", "yyyy-MM-dd")).withColumn("event_hour", F.date_format("ts", "HH"))
     .write.mode("overwrite").partitionBy("event_date", "event_hour").parquet(str(target)))
    written = ctx.spark.read.parquet(str(target))
    statuses = {r["enrichment_status"]: r["count"] for r in written.groupBy("enrichment_status").count().collect()}
    versions = {str(r["device_version"]): r["count"] for r in written.groupBy("device_version").count().collect()}
    total = sum(statuses.values())
    rejected = zones.land_rejected_readings(ctx.path("flink", "rejected"), ctx.path("processed-zone", "quarantine", "sensor_readings"))
    ctx.add_flow("sensor_readings", flink_written=total, late_rejected=rejected["late"], conflicting_rejected=rejected["conflicting copy"],
                 duplicates_dropped=ctx.flows["sensor_readings"]["stream_records"] - total - sum(rejected.values()))
    for status, n in statuses.items():
        ctx.add_flow("sensor_enrichment", **{status: n})
    for version, n in versions.items():
        ctx.add_flow("sensor_device_versions", **{version: n})
    return (f"{total:,} readings ({', '.join(f'{k} {v:,}' for k, v in sorted(statuses.items()))}) under {target}; "
            f"rejected: {rejected['late']} late, {rejected['conflicting copy']} conflicting copies")


def kpi_queries(ctx: Context) -> str:
    ctx.spark.table(ctx.table("aggregated", "telemetry_metrics")).createOrReplaceTempView("telemetry_metrics")
    lines = []
    for query in sorted((ROOT / "queries").glob("*.sql")):
        df = ctx.spark.sql(query.read_text(encoding="utf-8"))
        rows = [list(r) for r in df.collect()]
        ctx.kpis[query.stem] = {"columns": df.columns, "rows": [[v.isoformat() if isinstance(v, date) else v for v in r] for r in rows]}
        lines.append(zones.format_table(query.stem, df.columns, rows))
    print()
    print("\n\n".join(lines))
    return f"{len(ctx.kpis)} named queries run as Athena runs them, over telemetry_metrics"


def streaming_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the sensor readings' path: the pull's quarantine, Flink's output."""
    e, f = ctx.expected, ctx.flows
    sensors = f.get("sensor_readings", {})
    return [
        ("distinct sensor readings quarantined by the pull", len(zones.quarantined_keys(ctx.path("raw-zone"), "sensors", "sensor_readings", "reading_id")),
         e.sensor_readings_quarantined_by_pull),
        ("sensor readings after deduplication", sensors.get("flink_written", 0), e.sensor_readings_unique),
        ("sensor readings rejected as late", sensors.get("late_rejected", 0), 0),
        ("sensor readings rejected as conflicting copies", sensors.get("conflicting_rejected", 0), 0),
        *[(f"sensor readings {k}", f.get("sensor_enrichment", {}).get(k, 0), v) for k, v in sorted(e.sensor_enrichment.items())],
        *[(f"sensor readings with device version {k}", f.get("sensor_device_versions", {}).get(k, 0), v) for k, v in sorted(e.sensor_device_versions.items())],
    ]


def batch_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the Glue path's counts and tables."""
    e, f = ctx.expected, ctx.flows
    return [
        ("telemetry messages read", f["telematics"]["glue_read"], e.telematics_raw_rows),
        ("telemetry readings quarantined", f["telematics"]["glue_quarantined"], e.telematics_quarantined),
        ("telemetry duplicates dropped", f["telematics"]["duplicates_dropped"], e.telematics_duplicates),
        ("weather rows in the raw zone (pulled, and late hours)", f["weather"]["raw_rows"], e.weather_rows_pulled),
        ("weather rows quarantined by the pull", f["weather"]["raw_quarantined"], e.weather_quarantined_by_pull),
        ("weather hours still missing in the processed table (flagged)", ctx.spark.table(ctx.table("processed", "weather")).where("is_missing").count(), e.weather_missing_hours),
        ("shipment changes read", f["shipments"]["glue_read"], e.shipments_raw_rows),
        ("shipment changes quarantined", f["shipments"]["glue_quarantined"], e.shipments_quarantined),
        ("shipments current", ctx.spark.table(ctx.table("processed", "shipments")).count(), e.shipments_current),
        ("customer changes read", f["customers"]["glue_read"], e.customers_raw_rows),
        ("customers current", ctx.spark.table(ctx.table("processed", "customers")).count(), e.customers_current),
        *[(f"intervals {k}", f.get("intervals", {}).get(k, 0), v) for k, v in sorted(e.interval_outcomes.items())],
    ]


def check_ground_truth(ctx: Context) -> str:
    """The generated run knows its answer: compare every count and KPI row with it (with --only
    streaming, the sensor readings' counts alone)."""
    streaming_only = ctx.args.only == "streaming"
    checks = streaming_checks(ctx) if streaming_only else [*batch_checks(ctx), *streaming_checks(ctx)]
    failures = [f"{name}: got {got}, expected {want}" for name, got, want in checks if got != want]
    ctx.checks = [{"check": name, "got": got, "expected": want, "ok": got == want} for name, got, want in checks]
    kpi_rows = 0
    if not streaming_only:
        actual = {
            (r["metric_date"].isoformat(), r["city"], r["temp_range"], r["weather_condition"], r["customer_segment"]): (r["intervals"], r["vehicles"], r["distance_km"], r["fuel_l"])
            for r in ctx.spark.table(ctx.table("aggregated", "telemetry_metrics")).collect()
        }
        expected_kpi = {k: tuple(v) for k, v in ctx.expected.kpi.items()}
        for key in sorted(set(actual) | set(expected_kpi)):
            got, want = actual.get(key), expected_kpi.get(key)
            if got is None or want is None or got[:2] != want[:2] or not (synthetic.close(got[2], want[2]) and synthetic.close(got[3], want[3])):
                failures.append(f"KPI row {key}: got {got}, expected {want}")
        ctx.checks.append({"check": "telemetry_metrics rows equal to the generator's", "got": len(actual), "expected": len(expected_kpi),
                           "ok": not any(x.startswith("KPI row") for x in failures)})
        kpi_rows = len(actual)
    if failures:
        shown = "\n    ".join(failures[:10])
        raise AssertionError(f"{len(failures)} results differ from the generator's ground truth:\n    {shown}")
    return f"{len(checks)} counts" + (f" and {kpi_rows} KPI rows" if not streaming_only else "") + " equal the generator's ground truth"


def write_report(ctx: Context, steps: Steps) -> str:
    import report

    path = ctx.path("report.html")
    report.write(path, summary(ctx, steps))
    return str(path)


# ---------------------------------------------------------------------------------------------


def summary(ctx: Context, steps: Steps, failure: StepFailed | None = None) -> dict[str, Any]:
    return {
        "environment": ctx.args.env,
        "mode": "generated" if ctx.generated else "supplied raw files",
        "size": {"vehicles": ctx.args.vehicles, "days": ctx.args.days} if ctx.generated else None,
        "source": None if ctx.generated else str(Path(ctx.args.raw).resolve()),
        "days": ctx.days,
        "cities": ctx.cities,
        "steps": [r.__dict__ for r in steps.records],
        "flows": ctx.flows,
        "kpis": ctx.kpis,
        "checks": ctx.checks,
        "dates_beyond_horizon": ctx.dates_beyond_horizon,
        "failure": None if failure is None else {"step": failure.step, "cause": failure.cause},
    }


@functools.cache
def _registry() -> list[dict[str, Any]]:
    return json.loads(REGISTRY.read_text(encoding="utf-8"))["jobs"]


def registered_jobs(stage: str) -> list[dict[str, Any]]:
    return [job for job in _registry() if job["stage"] == stage]


# How the local run runs each kind of daily job (lib/registry/jobs.json, "pipeline").
SOURCE_STEPS: dict[str, Callable[[str, str], Callable[[Context], str]]] = {
    "cdc": glue_cdc,
    "telematics": lambda dataset, day: glue_telematics(day),
    "weather": lambda dataset, day: glue_weather(day),
}


def daily_glue_steps(day: str) -> list[tuple[str, Callable[[Context], str | None]]]:
    """One day of the daily pipeline as the state machine runs it: every source job of the
    registry, in its order, then the aggregation."""
    steps = []
    for job in registered_jobs("sources"):
        dataset = job["outputs"][0]
        label = f"glue {Path(job['script']).stem}" + (f" {dataset}" if job["pipeline"] == "cdc" else "")
        steps.append((f"{label} {day}", SOURCE_STEPS[job["pipeline"]](dataset, day)))
    (aggregation,) = registered_jobs("aggregation")
    steps.append((f"glue {Path(aggregation['script']).stem} {day}", glue_aggregate(day)))
    return steps


def build_plan(ctx: Context) -> list[tuple[str, Callable[[Context], str | None]]]:
    env = ctx.args.env
    streaming_only = ctx.args.only == "streaming"
    plan: list[tuple[str, Callable[[Context], str | None]]] = [
        (f"read the {env} configuration (names, cities, schedules)", read_names),
        ("start moto_server on 127.0.0.1", start_moto),
        (f"create the lake buckets and streams as the {env} stacks name them", create_zones),
    ]
    if ctx.generated:
        plan.append((f"generate the sources: {ctx.args.vehicles} vehicles x {ctx.args.days} days", generate))
        if not streaming_only:
            plan.append(("land DMS extracts (Parquet) and telemetry (Firehose GZIP NDJSON) in the raw zone", land_sources))
        plan.append(("put device registry updates on their stream", put_device_updates))
        if not streaming_only:
            plan.append(("weather pull: the handler against a local Open-Meteo stand-in", lambda c: run_pull(c, "weather")))
        plan.append(("sensor pull: the handler against a local sensor API, every scheduled run", lambda c: run_pull(c, "sensors")))
    else:
        if not streaming_only:
            plan.append((f"upload the supplied raw zone from {ctx.args.raw}", land_sources))
        plan += [
            ("put the supplied device registry updates on their stream", put_device_updates),
            ("put the supplied raw sensor readings on their stream", replay_sensor_readings),
        ]
    plan += [
        ("mirror the raw zone for local Spark", mirror_raw),
        ("start local Spark with Iceberg", start_spark),
    ]
    if not streaming_only:
        for day in ctx.days:
            plan += daily_glue_steps(day)
        if ctx.args.backfill:
            first, last = ctx.args.backfill
            plan.append((f"glue aggregate_metrics backfill {first} .. {last}", glue_aggregate(last, backfill_from=first)))
        plan.append(("glue iceberg_maintenance", glue_maintenance))
    plan += [
        ("read the sensor-readings and device-updates streams", read_streams),
        ("flink enrichment on a local mini cluster", run_flink),
        ("land enriched readings (Parquet by hour) and rejected readings (quarantine), as the two Firehoses do", land_enriched),
    ]
    if not streaming_only:
        plan.append(("KPI named queries (queries/*.sql)", kpi_queries))
    if ctx.generated:
        plan.append(("check results against the generator's ground truth", check_ground_truth))
    return plan


def quiet_engines(log: Path) -> None:
    """The JVMs of Spark and Flink, and the libraries, write warnings and progress bars to the
    process's stderr: those go to logs/engines.log, while this run's own messages keep the
    terminal (sys.stderr is re-pointed at a copy of the original descriptor)."""
    terminal = os.dup(2)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="replace")
    engines = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(engines, 2)
    os.close(engines)
    import warnings

    def to_log(message, category, filename, lineno, file=None, line=None) -> None:
        with open(log, "a", encoding="utf-8") as f:
            f.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = to_log


def prepare_out(out: Path) -> None:
    """A fresh output folder; one that holds anything but an earlier run's output is refused."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise StepFailed("prepare the output folder", f"{out} is not empty and is not a local-run output folder; choose another --out")
        shutil.rmtree(out)
    (out / "logs").mkdir(parents=True)
    (out / MARKER).write_text("output of tools/local-run/run.py; replaced by the next run into this folder\n")


def left_behind(ctx: Context, steps: Steps) -> list[str]:
    items = []
    done = {r.name for r in steps.records if r.status != "failed"}
    if ctx.moto is not None:
        mirrored = any(name.startswith("mirror the raw zone") for name in done)
        items.append("moto_server stopped: its buckets and streams were in memory and are gone"
                     + (f"; the raw zone was mirrored to {ctx.path('raw-zone')} first" if mirrored else ""))
    tables = zones.iceberg_tables(ctx.path("warehouse"))
    if tables:
        items.append("Iceberg tables committed (each commit is atomic; a failed job commits nothing): "
                     + ", ".join(f"{t} ({n} snapshots)" if n else f"{t} (created, no data committed)" for t, n in tables))
    quarantine = ctx.path("processed-zone", "quarantine")
    if quarantine.exists():
        items.append(f"quarantined rows so far under {quarantine}: " + ", ".join(sorted(p.name for p in quarantine.iterdir())))
    if ctx.path("flink", "enriched").exists():
        items.append(f"Flink output under {ctx.path('flink', 'enriched')}")
    items.append(f"logs: {ctx.path('local-run.log')} (the failure's full trace), {ctx.path('logs')}; summary: {ctx.path('summary.json')}; no report was written")
    return items


def check_supplied(raw: Path, streaming_only: bool = False) -> list[str]:
    """The days of a supplied raw zone; fails naming every problem and the expected layout. For the
    streaming path alone, the sensor readings are what is required."""
    problems, days = zones.check_supplied_raw(raw, required=("sensor_readings",) if streaming_only else zones.REQUIRED_DATASETS)
    if problems:
        raise StepFailed("check the supplied raw files", "\n    ".join([*problems, "expected layout: see the README, 'Run it on your own data'"]))
    return days


def parse_backfill(text: str) -> tuple[str, str]:
    """FROM..TO as two days, FROM not after TO."""
    parts = text.split("..")
    try:
        first, last = (date.fromisoformat(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        first = last = None
    if first is None or last is None or last < first:
        raise StepFailed("check the options", f"--backfill must be FROM..TO, two days as yyyy-MM-dd with FROM not after TO (got {text!r})")
    return first.isoformat(), last.isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npm run local --", description=__doc__.split("\n\nOptions")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=20, metavar="N", help="size of the synthetic fleet (default 20)")
    parser.add_argument("--days", type=int, default=3, metavar="N", help="days of data, one Glue run per day (default 3)")
    parser.add_argument("--start", default="2026-11-02", metavar="DAY", help="first day, yyyy-MM-dd (default 2026-11-02)")
    parser.add_argument("--raw", metavar="DIR", help="run on your own raw files instead of a synthetic fleet (README: 'Run it on your own data')")
    parser.add_argument("--out", default=str(ROOT / "local-run-output"), metavar="DIR",
                        help="where the lake, logs, summary.json and report.html go; replaced by the next run (default local-run-output)")
    parser.add_argument("--env", default="dev", choices=["dev", "staging", "prod"], help="the environment whose names and settings are used (default dev)")
    parser.add_argument("--horizon-days", type=int, metavar="N",
                        help="the KPI's lateness horizon in days (default: the environment's processing.latenessHorizonDays)")
    parser.add_argument("--only", choices=["streaming"],
                        help="streaming: only the sensor readings' path (the pull or the supplied files, the streams, the Flink enrichment)")
    parser.add_argument("--backfill", metavar="FROM..TO",
                        help="after the daily runs, recompute the KPI of every date from FROM to TO (yyyy-MM-dd), as the state machine's backfill does")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(variable, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})

    out = Path(args.out).resolve()
    ctx = Context(args, out)
    steps = Steps(ctx, [])
    started = time.perf_counter()
    try:
        if args.raw is None and (args.vehicles < 1 or args.days < 1):
            raise StepFailed("check the options", f"--vehicles and --days must be at least 1 (got {args.vehicles} and {args.days})")
        try:
            date.fromisoformat(args.start)
        except ValueError:
            raise StepFailed("check the options", f"--start must be a day as yyyy-MM-dd (got {args.start!r})") from None
        if args.horizon_days is not None and args.horizon_days < 1:
            raise StepFailed("check the options", f"--horizon-days must be at least 1 (got {args.horizon_days})")
        if args.backfill is not None:
            args.backfill = parse_backfill(args.backfill)
        if args.only and args.backfill:
            raise StepFailed("check the options", "--backfill recomputes the KPI, which --only streaming does not run")
        if args.raw is not None:
            ctx.days = check_supplied(Path(args.raw), streaming_only=args.only == "streaming")
        else:
            ctx.days = [(date.fromisoformat(args.start) + timedelta(days=d)).isoformat() for d in range(args.days)]
        prepare_out(out)
        quiet_engines(ctx.path("logs", "engines.log"))
        steps.plan = [*build_plan(ctx), ("write the HTML report", lambda c: write_report(c, steps))]
        print(f"local platform run: {'synthetic fleet' if ctx.generated else args.raw}, {len(steps.plan)} steps, output in {out}")
        steps.run()
        (out / "summary.json").write_text(json.dumps(summary(ctx, steps), indent=2, default=str))
        print(f"local platform run finished in {time.perf_counter() - started:.0f} s; report: {ctx.path('report.html')}")
        return 0
    except StepFailed as failure:
        print(f"\nlocal platform run FAILED at step '{failure.step}'\n  cause: {failure.cause}", file=sys.stderr)
        if out.exists() and (out / MARKER).exists():
            (out / "summary.json").write_text(json.dumps(summary(ctx, steps, failure), indent=2, default=str))
            print("  left behind:\n" + "\n".join(f"    - {item}" for item in left_behind(ctx, steps)), file=sys.stderr)
        else:
            print("  left behind: nothing (no step had run)", file=sys.stderr)
        return 1
    finally:
        if ctx.spark is not None:
            ctx.spark.stop()
        if ctx.moto is not None:
            ctx.moto.stop()


if __name__ == "__main__":
    sys.exit(main())
