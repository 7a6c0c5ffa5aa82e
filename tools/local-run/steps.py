"""The steps of the local run, each doing what one AWS component does on the platform: moto plays
S3 and Kinesis, the pulls run their deployed handlers, the Glue jobs run on local Spark with
Iceberg as their entry points call them, Flink on a local mini cluster, and the KPIs are the
Athena named queries run over the aggregated table."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import live_telemetry
import synthetic
import zones
from flows import DatasetFlow
from runner import ROOT, HERE, Context, Steps, cause_of, summary

TS_NODE = ROOT / "node_modules" / ".bin" / "ts-node"
PLATFORM_TS = HERE / "platform.ts"


def platform_names(env: str) -> dict[str, Any]:
    """The names the environment's stacks give the lake, its settings, and the pull functions of the
    registry, from the stacks' own code (tools/local-run/platform.ts). The plan is built from them."""
    result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), "names", env], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"platform.ts names failed: {result.stderr.strip()[-1500:]}")
    return json.loads(result.stdout)


def read_names(ctx: Context) -> str:
    """The configuration read before planning (platform_names), taken in: the cities of the run."""
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
    fleet = synthetic.Fleet(ctx.args.vehicles, ctx.args.days, date.fromisoformat(ctx.args.start), ctx.names["cities"], partner=telematics_partner(ctx.names),
                            kafka_topic=telematics_topic(ctx.names))
    ctx.fleet = fleet
    ctx.expected = synthetic.generate(fleet, ctx.path("sources", "landing"), ctx.path("sources", "api"), ctx.path("sources", "streams"))
    e = ctx.expected
    return (f"{e.telematics_raw_rows:,} telemetry messages, {e.shipments_raw_rows:,} shipment and {e.dataset_counts['customers']['glue_read']} customer changes, "
            f"{e.sensor_readings_served:,} sensor readings and {len(fleet.cities)} x {fleet.days} weather days for the APIs")


def land_sources(ctx: Context) -> str:
    landing = ctx.path("sources", "landing") if ctx.generated else Path(ctx.args.raw)
    count, size = zones.upload_tree(ctx.moto, ctx.names["buckets"]["raw"], landing / "raw", "raw/")
    return f"{count} objects, {size / 1e6:.1f} MB into s3://{ctx.names['buckets']['raw']}/raw/"


REGISTRY_TS = ROOT / "tools" / "registry" / "index.ts"
# Any cluster: the stand-in has one PostgreSQL. The secret's calls run as the fleet team's login
# (V005), as the command's do on AWS.
LOCAL_FLEET_SECRET = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:local-registry-fleet"
LOCAL_REGISTRY_ARNS = ["--cluster-arn", "arn:aws:rds:eu-west-1:000000000000:cluster:local-registry", "--secret-arn", LOCAL_FLEET_SECRET]


def registry_device_updates(ctx: Context) -> list[str]:
    """The fleet written into a local registry (PostgreSQL with logical replication, the project's
    migrations) through the fleet team's command (npm run registry -- apply --file), signed in as
    the fleet's login, over the RDS Data API stand-in, and its device records as DMS streams them: the full load of
    registry.device_versions once the fleet is in, then the CDC of the recalibrations (the DMS
    stand-in reads the replication slot: tools/stand-ins/dms_cdc.py)."""
    import dms_cdc
    import registry_sql
    from local_postgres import LocalPostgres
    from rds_data_api import DataApi, serve

    pg = LocalPostgres.start(logical_replication=True)
    server = serve(DataApi(pg, {LOCAL_FLEET_SECRET: "registry_fleet"}))
    try:
        pg.create_database("registry")
        with pg.connect("registry") as conn:
            conn.autocommit = True
            registry_sql.migrate(conn)

        def apply(name: str) -> None:
            log = ctx.path("logs", f"registry-{name}.log")
            with open(log, "w") as out:
                result = subprocess.run(
                    [str(TS_NODE), "--transpile-only", str(REGISTRY_TS), "apply", "--file", str(ctx.path("sources", "streams", name)),
                     "--env", ctx.args.env, "--database", "registry", *LOCAL_REGISTRY_ARNS],
                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                    env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL_RDS_DATA": f"http://127.0.0.1:{server.server_address[1]}", "NODE_OPTIONS": "--no-warnings"})
            if result.returncode != 0:
                raise RuntimeError(f"npm run registry -- apply --file {name} failed (exit {result.returncode}): see {log}")

        apply(synthetic.REGISTRY_FLEET)
        with pg.connect("registry") as conn:
            replication = dms_cdc.TableToKinesis(conn, "registry.device_versions")
            replication.create()
            records = replication.full_load()
            apply(synthetic.REGISTRY_CHANGES)
            records += replication.changes()
            replication.drop()
    finally:
        server.shutdown()
        pg.stop()
    return dms_cdc.lines(records)


def put_device_updates(ctx: Context) -> str:
    """The device-updates stream as DMS fills it, and the raw zone's copy its Firehose lands."""
    if ctx.generated:
        lines = registry_device_updates(ctx)
        # Kept beside the other sources: what a user may supply as streams/device_updates.ndjson.
        ctx.path("sources", "streams", "device_updates.ndjson").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        origin = "from the registry (fleet by the registry command, DMS stand-in: full load then CDC)"
    else:
        source = Path(ctx.args.raw) / "streams" / "device_updates.ndjson"
        if not source.exists():
            return "skipped: no device updates supplied (every reading will be NO_DEVICE_RECORD)"
        lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        origin = f"supplied in DMS's format ({source})"
    # DMS's object mapping partitions by sensor_id, so one sensor's versions keep their order on one shard.
    zones.put_lines(ctx.moto, ctx.names["streams"]["deviceUpdates"], lines, key_field="data.sensor_id")
    put = f"{len(lines)} DMS records on {ctx.names['streams']['deviceUpdates']}, {origin}"
    if not ctx.days:
        return put
    landed = zones.land_stream_copy(ctx.moto, ctx.names["buckets"]["raw"], "device_updates", lines, "data.updated_at", ctx.days[0])
    return f"{put}; the raw zone's copy as its Firehose lands it (GZIP NDJSON by arrival date): {', '.join(f'{day} {n}' for day, n in sorted(landed.items()))}"


def run_pull(name: str) -> Callable[[Context], str]:
    """A pull function of the registry (lib/registry/pulls.ts), as its schedule runs it: its deployed
    handler, invoked at the simulated times of its schedule, against its local stand-in API serving
    the generated data (synthetic.PULL_INPUTS) and against moto."""
    def action(ctx: Context) -> str:
        data_file, invocations = synthetic.PULL_INPUTS[name](ctx.fleet, ctx.names, ctx.path("sources", "api"))
        # The fault-injection run puts its proxy between the handler and moto, and takes the
        # weather API down for an hour (faults.py).
        plan = {"envName": ctx.args.env, "endpoint": ctx.proxy.endpoint if ctx.proxy else ctx.moto.endpoint, "summaryFile": str(ctx.path("logs", f"{name}.json")),
                "name": name, "dataFile": str(data_file), "invocations": invocations}
        if ctx.proxy and name == "weather-pull":
            from faults import outage_window, runs_after_outage

            plan["apiOutage"] = outage_window(ctx)
            plan["invocations"] = sorted(set(invocations) | set(runs_after_outage(ctx)))
        plan_file = ctx.path("logs", f"{name}-plan.json")
        plan_file.write_text(json.dumps(plan))
        log = ctx.path("logs", f"{name}.log")
        with open(log, "w", encoding="utf-8") as out:
            result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), "pull", str(plan_file)], cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT, env={**os.environ, "NODE_OPTIONS": "--no-warnings"})
        if result.returncode != 0:
            raise RuntimeError(f"the {name} process failed (exit {result.returncode}); its log: {log}\n{log.read_text()[-1500:]}")
        summary = json.loads(Path(plan["summaryFile"]).read_text())
        outage = summary.get("duringOutage")
        if outage:
            # Runs while the API was down fail, as on AWS (Lambda retries, then the dead-letter
            # queue); any other failure is still one.
            down = set(outage["invocations"])
            expected = [f for f in summary["failures"] if f["time"] in down]
            summary["failures"] = [f for f in summary["failures"] if f["time"] not in down]
            ctx.fault_results["pulls"] = {"outage_invocations": sorted(down), "failed": len(expected), "answers503": outage["answers503"]}
            if len(expected) != len(down):
                raise RuntimeError(f"{len(down) - len(expected)} {name} run(s) while the API was down did not fail; they must, so that Lambda retries them")
        if summary["failures"]:
            first = summary["failures"][0]
            raise RuntimeError(f"{len(summary['failures'])} of {summary['invocations']} {name} invocations failed; first at {first['time']}: {first['error']} (log: {log})")
        # What the handler's results count, summed over the runs (cities pulled, readings put, ...).
        totals: dict[str, int] = {}
        for r in summary["results"]:
            for key, value in r.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
        runs = f"{summary['invocations']} scheduled run{'s' if summary['invocations'] != 1 else ''}"
        if summary.get("retried"):
            runs += f" ({summary['retried']} retried by Lambda with the same event)"
        return runs + (f"; over them: {', '.join(f'{k} {v:,}' for k, v in totals.items())}" if totals else "")
    return action


def telematics_partner(names: dict[str, Any]) -> str | None:
    """The first SFTP partner of the environment that sends telematics, if its partner files are enabled."""
    drops = names.get("partnerFiles", {})
    return next((p["name"] for p in drops.get("partners", []) if p["dataset"] == "telematics"), None) if drops.get("enabled") else None


def partner_files(ctx: Context) -> str:
    """The partner's SFTP uploads (synthetic._partner_files) into a landing bucket in moto, each
    checked by the partner file check's deployed handler (tools/local-run/platform.ts partner-files):
    the accepted files promoted into the raw zone before the Glue jobs read it."""
    uploads = ctx.expected.partner_uploads
    # The fault-injection run puts its proxy between the uploads, the check and moto (S3 500/503).
    before = ctx.proxy.injected.as_json() if ctx.proxy else {}
    plan = {"envName": ctx.args.env, "endpoint": ctx.proxy.endpoint if ctx.proxy else ctx.moto.endpoint, "summaryFile": str(ctx.path("logs", "partner-files.json")), "uploads": uploads}
    summary = run_platform_command(ctx, "partner-files", plan)
    if ctx.proxy:
        after = ctx.proxy.injected.as_json()
        ctx.fault_results["partner_files"] = {k: after[k] - before.get(k, 0) for k in ("s3 PutObject answered 500", "s3 PutObject answered 503")} | {"retried": summary["retried"]}
    log = ctx.path("logs", "partner-files.log")
    if summary["failures"]:
        first = summary["failures"][0]
        raise RuntimeError(f"{len(summary['failures'])} of {summary['uploads']} partner file checks failed every attempt; first {first['key']}: {first['error']} (log: {log})")
    outcomes = summary["outcomes"]
    kinds = {kind: sum(1 for o in outcomes if o["kind"] == kind) for kind in ("promoted", "repeated", "rejected", "ignored")}
    ctx.flows.add("telematics", partner_files_promoted=kinds["promoted"], partner_files_repeated=kinds["repeated"], partner_files_rejected=kinds["rejected"],
                  partner_records_promoted=sum(o.get("records", 0) for o in outcomes if o["kind"] == "promoted"))
    refused = "; ".join(f"{o['key']}: {o['reasons'][0]}" for o in outcomes if o["kind"] == "rejected")
    return (f"{summary['uploads']} uploads: {kinds['promoted']} promoted into the raw zone, {kinds['repeated']} sent again (not promoted twice), "
            f"{kinds['rejected']} refused ({refused})")


def telematics_topic(names: dict[str, Any]) -> str | None:
    """The first Kafka topic of the environment that carries telematics, if Kafka ingestion is enabled."""
    kafka = names.get("kafka", {})
    return next((t["topic"] for t in kafka.get("topics", []) if t["dataset"] == "telematics"), None) if kafka.get("enabled") else None


def kafka_topics(ctx: Context) -> str:
    """The Kafka truck's readings (synthetic._kafka_messages) produced to a real Kafka broker on
    127.0.0.1, then delivered by the Firehose-MSK stand-in through the record check's deployed
    handler into the raw zone in moto (tools/local-run/platform.ts kafka-topics), before the Glue
    jobs read it."""
    messages = ctx.path("sources", "kafka-messages.json")
    messages.write_text(json.dumps(ctx.expected.kafka_messages))
    plan = {"envName": ctx.args.env, "endpoint": ctx.moto.endpoint, "summaryFile": str(ctx.path("logs", "kafka-topics.json")),
            "topic": ctx.fleet.kafka_topic, "messagesFile": str(messages)}
    summary = run_platform_command(ctx, "kafka-topics", plan)
    ctx.flows.add("telematics", kafka_records_delivered=summary["delivered"], kafka_records_refused=summary["dropped"])
    if summary["processingFailed"]:
        raise RuntimeError(f"{summary['processingFailed']} Kafka records failed the record check's invocation (under the processing-failed prefix)")
    reasons = ", ".join(f"{field} {n}" for field, n in sorted(summary["refusedBy"].items()))
    return (f"{summary['read']:,} records produced to {ctx.fleet.kafka_topic} on a local broker: {summary['delivered']:,} delivered into the raw zone "
            f"in {len(summary['objects'])} objects ({summary['invocations']} check invocations), {summary['dropped']} refused into the quarantine ({reasons})")


def replay_sensor_readings(ctx: Context) -> str:
    """User data: the raw sensor Parquet is what the pull wrote; it put the same rows on the stream."""
    files = sorted(Path(ctx.args.raw).glob("raw/sensors/sensor_readings/ingest_date=*/*.parquet"))
    if not files:
        return "skipped: no raw sensor readings supplied (the Flink steps will be skipped)"
    count = zones.replay_parquet(ctx.moto, ctx.names["streams"]["sensorReadings"], files, key_field="reading_id")
    return f"{count:,} readings from {len(files)} files put on {ctx.names['streams']['sensorReadings']}"


def put_live_telemetry(ctx: Context) -> str:
    """An hour of live telemetry with planted episodes (live_telemetry.py) on the telemetry stream,
    as the IoT rule puts it; the alerts it must raise become part of the ground truth."""
    vehicles = [ctx.fleet.vehicle(v) for v in range(ctx.fleet.vehicles)]
    # The hour after the last day's driving: its own readings, so the daily lake data stay as generated.
    start = datetime.combine(ctx.fleet.day_list[-1], datetime.min.time(), timezone.utc) + timedelta(hours=20)
    lines, ctx.expected_alerts = live_telemetry.generate(vehicles, start)
    via_api = https_partner_vehicle(ctx.names, vehicles)
    if via_api is None:
        zones.put_lines(ctx.moto, ctx.names["streams"]["telemetry"], lines, key_field="vehicle_id")
        return f"{len(lines):,} messages of {len(vehicles)} vehicles on {ctx.names['streams']['telemetry']}; {len(ctx.expected_alerts)} planted episodes"
    # One vehicle is an HTTPS partner's: its messages go through the ingestion API as deployed, the
    # rest as the IoT rule puts them, in stream order; what the API must report is counted here.
    posted = sum(1 for line in lines if json.loads(line)["vehicle_id"] == via_api)
    counts = ctx.expected.dataset_counts["telematics"]
    counts["api_records_accepted"] += posted
    counts["api_requests_refused"] += len(INGEST_API_REFUSALS)
    plan = {"envName": ctx.args.env, "endpoint": ctx.moto.endpoint, "summaryFile": str(ctx.path("logs", "ingest-api.json")), "lines": lines, "viaApi": via_api}
    summary = run_platform_command(ctx, "ingest-api", plan)
    ctx.flows.add("telematics", api_records_accepted=summary["recordsAccepted"], api_requests_refused=sum(summary["refused"].values()))
    if summary["recordsFailed"]:
        raise RuntimeError(f"{summary['recordsFailed']} records the ingestion API took were refused by the stream")
    refused = ", ".join(f"{code} {n}" for code, n in sorted(summary["refused"].items()))
    return (f"{len(lines):,} messages of {len(vehicles)} vehicles on {ctx.names['streams']['telemetry']}, {via_api}'s {summary['recordsAccepted']} through the HTTPS "
            f"ingestion API ({summary['partner']}'s key), the rest as the IoT rule puts them; planted requests refused: {refused}; {len(ctx.expected_alerts)} planted episodes")


# The requests the ingestion API step plants before the live hour (tools/local-run/platform.ts ingestApi).
INGEST_API_REFUSALS = ("no API key", "an unknown API key", "a record out of range", "501 records", "a body that is not JSON")


def https_partner_vehicle(names: dict[str, Any], vehicles: list[str]) -> str | None:
    """The live hour's vehicle whose messages an HTTPS partner posts: the one before last, which
    carries no planted episode (vehicles 0-2 do, the last sends the broken messages), with five
    vehicles or more and the API enabled."""
    api = names.get("httpsApi", {})
    return vehicles[-2] if api.get("enabled") and api.get("partners") and len(vehicles) >= 5 else None


def run_platform_command(ctx: Context, command: str, plan: dict[str, Any]) -> dict[str, Any]:
    """tools/local-run/platform.ts <command> <plan.json>, its output in logs/<command>.log; returns its summary file's JSON."""
    plan_file = ctx.path("logs", f"{command}-plan.json")
    plan_file.write_text(json.dumps(plan))
    log = ctx.path("logs", f"{command}.log")
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), command, str(plan_file)], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "NODE_OPTIONS": "--no-warnings"})
    if result.returncode != 0:
        raise RuntimeError(f"the {command} process failed (exit {result.returncode}); its log: {log}\n{log.read_text()[-1500:]}")
    return json.loads(Path(plan["summaryFile"]).read_text())


def live_alerts(ctx: Context) -> str:
    """The alerts function's core over the telemetry stream as its event source mapping drives it
    (batches, tumbling windows), the silent-vehicle check on its schedule, the table in moto
    (tools/local-run/live-alerts.ts)."""
    plan = {"envName": ctx.args.env, "endpoint": ctx.moto.endpoint, "region": ctx.names["region"], "stream": ctx.names["streams"]["telemetry"],
            "tableName": ctx.names["alertsTable"], "summaryFile": str(ctx.path("logs", "live-alerts.json"))}
    plan_file = ctx.path("logs", "live-alerts-plan.json")
    plan_file.write_text(json.dumps(plan))
    log = ctx.path("logs", "live-alerts.log")
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run([str(TS_NODE), "--transpile-only", str(PLATFORM_TS), "alerts", str(plan_file)], cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "NODE_OPTIONS": "--no-warnings"})
    if result.returncode != 0:
        raise RuntimeError(f"the live alerts process failed (exit {result.returncode}); its log: {log}\n{log.read_text()[-1500:]}")
    ctx.alerts = json.loads(Path(plan["summaryFile"]).read_text())
    a = ctx.alerts
    return (f"{a['readings']:,} readings in {a['invocations']} invocations, {a['silenceChecks']} silence checks; {len(a['alerts'])} alerts; "
            f"{sum(a['writes'].values())} DynamoDB writes ({a['writesPer10kReadings']:,} per 10,000 readings)")


def mirror_raw(ctx: Context) -> str:
    count, size = zones.download_bucket(ctx.moto, ctx.names["buckets"]["raw"], ctx.path("raw-zone"))
    counted = zones.raw_zone_counts(ctx.path("raw-zone"))
    for dataset, counts in counted.items():
        ctx.flows.add(dataset, **counts)
    if not ctx.generated:
        ctx.cities = zones.weather_cities(ctx.path("raw-zone"))
    unreadable = {d: c["raw_unreadable_objects"] for d, c in counted.items() if c.get("raw_unreadable_objects")}
    warning = f"; unreadable, left out by the job that reads them, with the reason: {unreadable}" if unreadable else ""
    return f"{count} objects, {size / 1e6:.1f} MB to {ctx.path('raw-zone')} (local Spark reads files where Glue reads s3://){warning}"


def start_spark(ctx: Context) -> str:
    from lakehouse.spark import local_session

    ctx.spark = local_session("local-platform-run", str(ctx.path("warehouse")))
    ctx.spark.sparkContext.setLogLevel("ERROR")
    return f"Spark {ctx.spark.version}, Iceberg catalog 'lake' at {ctx.path('warehouse')}"


def glue_etl(dataset: str, day: str, run: Callable[..., Any], describe: Callable[[Any], str], flows: Callable[[Any], dict[str, int]] = lambda stats: {},
             runs_without_raw: bool = False) -> Callable[[Context], str]:
    """A processing job of one day, as its Glue entry point calls it: the day's raw path (as the
    dataset's writer lays it out), the processed table, the quarantine root. A day without raw
    files is skipped, unless the job takes that as an empty batch (`runs_without_raw`), as it
    does on Glue."""
    def action(ctx: Context) -> str:
        from lakehouse.contracts import contract_of, load_contracts, raw_day_path

        contract = contract_of(load_contracts(), dataset)
        raw = ctx.path("raw-zone", raw_day_path(contract, day))
        if not raw.exists() and not runs_without_raw:
            return f"skipped: nothing in the raw zone under {raw_day_path(contract, day)}"
        table = ctx.table("processed", dataset)
        stats = run(ctx, contract, str(raw), table, str(ctx.path("processed-zone", "quarantine")))
        ctx.committed_tables.append(table)
        unreadable = stats.details.get("unreadable_objects", 0)
        counted = {"glue_unreadable_objects": unreadable} if unreadable else {}  # a column in the report only where it happened
        ctx.flows.add(dataset, glue_read=stats.read, glue_quarantined=stats.quarantined, glue_written=stats.written, **counted, **flows(stats))
        left_out = f"; {unreadable} unreadable raw object(s) left out, listed with the reason under quarantine/{dataset}/unreadable_objects/" if unreadable else ""
        return describe(stats) + left_out
    return action


def glue_cdc(dataset: str, day: str) -> Callable[[Context], str]:
    from lakehouse import pipelines

    return glue_etl(
        dataset, day,
        lambda ctx, contract, raw, table, quarantine: pipelines.run_cdc(ctx.spark, dataset, contract, raw, table, quarantine, day),
        lambda stats: f"{stats.read} changes read, {stats.quarantined} quarantined, {stats.written} applied",
    )


def glue_keyed(dataset: str, day: str) -> Callable[[Context], str]:
    from lakehouse import pipelines

    return glue_etl(
        dataset, day,
        lambda ctx, contract, raw, table, quarantine: pipelines.run_keyed(ctx.spark, dataset, contract, raw, table, quarantine, day),
        lambda stats: (f"{stats.read} rows read, {stats.quarantined} quarantined, {stats.details['duplicates']} exact copies and "
                       f"{stats.details['superseded']} older versions left out, {stats.written} merged"),
        lambda stats: {"duplicates_dropped": stats.details["duplicates"]},
        runs_without_raw=True,
    )


def glue_landed(dataset: str, day: str) -> Callable[[Context], str]:
    """A dataset a streaming job lands in the processed zone (here, land_enriched's folder, as the
    Firehose writes it), merged into its Iceberg table as the Glue job does on `day`."""
    def action(ctx: Context) -> str:
        from lakehouse import pipelines
        from lakehouse.contracts import contract_of, load_contracts

        contract = contract_of(load_contracts(), dataset)
        table = ctx.table("processed", dataset)
        landing = ctx.path("processed-zone", contract["landing"]["table"])
        stats = pipelines.run_landed(ctx.spark, dataset, contract, str(landing), table, str(ctx.path("processed-zone", "quarantine")), day, ctx.horizon_days)
        ctx.committed_tables.append(table)
        ctx.flows.add(dataset, glue_read=stats.read, glue_quarantined=stats.quarantined, glue_written=stats.written, duplicates_dropped=stats.details["duplicates"])
        days = stats.lists["event_days_read"]
        return (f"event days {days[0]} .. {days[-1]}: {stats.read:,} rows read, {stats.details['already_in_table']:,} already in the table, "
                f"{stats.details['duplicates']} exact copies, {stats.quarantined} quarantined, {stats.written:,} new")
    return action


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
        # every table the aggregation writes, as the registry's outputs list them for maintenance
        ctx.committed_tables += [table, pipelines.intervals_table(table), pipelines.recomputed_table(table)]
        ctx.outcomes_by_date.update(stats.outcomes_by_date)
        ctx.dates_beyond_horizon = stats.lists["dates_beyond_horizon"]
        ctx.flows.interval_outcomes = {}
        for outcomes in ctx.outcomes_by_date.values():
            for outcome, n in outcomes.items():
                ctx.flows.interval_outcomes[outcome] = ctx.flows.interval_outcomes.get(outcome, 0) + n
        # The KPI table as it stands: intervals of every date so far in, rows out.
        ctx.flows.datasets["telemetry_metrics"] = DatasetFlow(glue_read=sum(ctx.flows.interval_outcomes.values()), glue_written=ctx.spark.table(table).count())
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.details.items()) if not k.startswith("dates_"))
        recomputed = ", ".join(stats.lists["dates_recomputed"])
        beyond = (f"; changed beyond the {ctx.horizon_days}-day horizon, not recomputed (alarmed on AWS; --backfill recomputes them): "
                  f"{', '.join(ctx.dates_beyond_horizon)}") if ctx.dates_beyond_horizon else ""
        return f"dates recomputed: {recomputed}; {stats.read:,} intervals -> {stats.written} KPI rows; outcomes: {outcomes}{beyond}"
    return action


def glue_maintenance(ctx: Context) -> str:
    from lakehouse import pipelines

    from plan import registered_jobs  # plan imports this module: here, at run time

    # and the jobs' own state tables, as the registry's `keeps` list them for the stack's maintenance job
    kept = [ctx.table("processed", t) for stage in ("sources", "aggregation") for job in registered_jobs(stage) for t in job.get("keeps", [])]
    tables = sorted(set(ctx.committed_tables) | {t for t in kept if ctx.spark.catalog.tableExists(t)})
    stats = pipelines.run_maintenance(ctx.spark, tables, ctx.names["snapshotRetentionDays"])
    rewritten = sum(stats.details.values())
    return f"{len(tables)} tables compacted ({rewritten} files rewritten), snapshots expired, orphans removed"


def read_streams(ctx: Context) -> str:
    flink_dir = ctx.path("flink")
    readings = zones.read_stream(ctx.moto, ctx.names["streams"]["sensorReadings"], flink_dir / "readings" / "part-0.json")
    devices = zones.read_stream(ctx.moto, ctx.names["streams"]["deviceUpdates"], flink_dir / "devices" / "part-0.json")
    ctx.flows.add("sensor_readings", stream_records=readings)
    ctx.flows.add("device_updates", stream_records=devices)
    return f"{readings:,} sensor readings and {devices} device updates, in arrival order, as the Flink sources' input"


CAUSED_BY = re.compile(r"^Caused by: (.+)$", re.MULTILINE)


def flink_failure(error: BaseException) -> str:
    """The reason a Flink job failed: the deepest 'Caused by' of its Java trace (for example
    'Fail to deserialize at field: updated_at'), not the wrapper's 'Failed to wait job finish'."""
    causes = CAUSED_BY.findall(str(error))
    return causes[-1].strip() if causes else cause_of(error)


def flink_settings(ctx: Context) -> dict[str, int]:
    """The job's settings from the environment's config; one reader keeps each file's order."""
    flink = ctx.names["flink"]
    return {"readings_max_delay_seconds": flink["readingsMaxDelaySeconds"], "state_ttl_hours": flink["stateTtlHours"], "parallelism": 1}


def run_flink(ctx: Context) -> str:
    if not ctx.flows.of("sensor_readings").count("stream_records"):
        return "skipped: no sensor readings on the stream"
    from enrichment.local import run_on_files

    out = ctx.path("flink", "enriched")
    try:
        run_on_files(str(ctx.path("flink", "readings")), str(ctx.path("flink", "devices")), str(out), str(ctx.path("flink", "rejected")), **flink_settings(ctx))
    except Exception as error:
        raise RuntimeError(f"the Flink job failed: {flink_failure(error)}") from error
    return f"enriched readings written to {out}, rejected readings to {ctx.path('flink', 'rejected')}"


def land_enriched(ctx: Context) -> str:
    """As the two Firehose deliveries write the job's output: the enriched readings as Parquet with
    the enriched contract's types, by the reading's date and hour; the rejected readings as JSON
    lines with their reasons under the processed zone's quarantine. What a killed job had emitted
    after its last checkpoint (the fault run: flink/redelivered) Firehose has delivered too, so it
    lands beside the job's output; the counts are the job's own output."""
    if not ctx.flows.of("sensor_readings").count("stream_records"):
        return "skipped: no enriched readings"
    from enrichment import contracts
    from lakehouse.contracts import spark_ddl
    from pyspark.sql import functions as F

    contract = contracts.contract(contracts.ENRICHED)
    def read(path: Path):
        return ctx.spark.read.schema(spark_ddl(contract)).json(str(path))

    enriched = read(ctx.path("flink", "enriched"))
    redelivered = ctx.path("flink", "redelivered")
    delivered = enriched.unionByName(read(redelivered / "enriched")) if (redelivered / "enriched").exists() else enriched
    target = ctx.path("processed-zone", contract["landing"]["table"])
    (delivered.withColumn("event_date", F.date_format("ts", "yyyy-MM-dd")).withColumn("event_hour", F.date_format("ts", "HH"))
     .write.mode("overwrite").partitionBy("event_date", "event_hour").parquet(str(target)))
    statuses = {r["enrichment_status"]: r["count"] for r in enriched.groupBy("enrichment_status").count().collect()}
    versions = {str(r["device_version"]): r["count"] for r in enriched.groupBy("device_version").count().collect()}
    total = sum(statuses.values())
    quarantine = ctx.path("processed-zone", "quarantine", "sensor_readings")
    rejected = zones.land_rejected_readings(ctx.path("flink", "rejected"), quarantine)
    if (redelivered / "rejected").exists():
        zones.land_rejected_readings(redelivered / "rejected", quarantine, "rejected-redelivered.ndjson")
    ctx.flows.add("sensor_readings", flink_written=total, late_rejected=rejected["late"], conflicting_rejected=rejected["conflicting copy"],
                   duplicates_dropped=ctx.flows.of("sensor_readings").count("stream_records") - total - sum(rejected.values()))
    ctx.flows.sensor_enrichment = statuses
    ctx.flows.sensor_device_versions = versions
    return (f"{total:,} readings ({', '.join(f'{k} {v:,}' for k, v in sorted(statuses.items()))}) under {target}; "
            f"rejected: {rejected['late']} late, {rejected['conflicting copy']} conflicting copies")


def start_trino(ctx: Context) -> str:
    """The local stand-in for Athena (engine v3 is Trino-based), reading the aggregated table the
    run's Spark wrote: registered by location in Trino's own Iceberg catalog."""
    from local_trino import LocalTrino

    ctx.trino = LocalTrino(ctx.path("trino")).start()
    database = ctx.names["databases"]["aggregated"]
    location = ctx.spark.sql(f"DESCRIBE TABLE EXTENDED {ctx.table('aggregated', 'telemetry_metrics')}").where("col_name = 'Location'").first()["data_type"]
    ctx.trino.register(database, "telemetry_metrics", Path(location.removeprefix("file:")))
    return f"Trino {ctx.trino.execute('SELECT node_version FROM system.runtime.nodes')[1][0][0]} on {ctx.trino.endpoint}, {database}.telemetry_metrics registered"


# The lake tables the warehouse load reads, by the staging table that stands for each locally
# (warehouse/local/V002__staging.sql): (zone, lake table) -> staging table.
WAREHOUSE_STAGING = {
    ("processed", "customers__history"): "staging_processed.customers__history",
    ("processed", "shipments"): "staging_processed.shipments",
    ("processed", "weather"): "staging_processed.weather",
    ("processed", "device_updates"): "staging_processed.device_updates",
    ("processed", "sensor_readings_enriched"): "staging_processed.sensor_readings_enriched",
    ("processed", "sensor_readings_enriched__landed_dates"): "staging_processed.sensor_readings_enriched__landed_dates",
    ("aggregated", "fuel_intervals"): "staging_aggregated.fuel_intervals",
    ("aggregated", "telemetry_metrics"): "staging_aggregated.telemetry_metrics",
    ("aggregated", "kpi_recomputed_dates"): "staging_aggregated.kpi_recomputed_dates",
}


def load_warehouse(ctx: Context) -> str:
    """The warehouse on a local PostgreSQL (Redshift's stand-in): the migrations, the lake tables
    the run wrote copied into the staging tables that stand for Redshift's external schemas, the
    daily load (every KPI date the aggregation recomputed, late ones included) under the loader's
    database role, as the state machine runs it; mart.telemetry_metrics must equal the lake's row
    for row."""
    import time

    import warehouse_sql
    from local_postgres import LocalPostgres

    ctx.postgres = LocalPostgres.start()
    database = ctx.names["warehouse"]["databaseName"]
    ctx.postgres.create_database(database)
    with ctx.postgres.connect(database) as conn:
        warehouse_sql.migrate(conn)
        columns_of = lambda table: [r[0] for r in conn.execute(  # noqa: E731
            "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]
        with conn.transaction():
            for (zone, lake_table), staging in WAREHOUSE_STAGING.items():
                columns = columns_of(staging)
                lake = ctx.spark.table(ctx.table(zone, lake_table))
                selected = lake.select(*[c if c in lake.columns else c.capitalize() for c in columns])  # the CDC history's Op column
                with conn.cursor().copy(f"COPY {staging} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in selected.toLocalIterator():
                        copy.write_row(tuple(row))
        # As the deployed load: under the loader's database role (migration V006), not the admin.
        conn.execute("SET ROLE warehouse_loader")
        started = time.perf_counter()
        logs = warehouse_sql.load(conn)
        seconds = time.perf_counter() - started
        conn.execute("RESET ROLE")
        days = sorted(logs)
        compared = ("metric_date, city, temp_range, weather_condition, customer_segment, intervals, vehicles, "
                    "round(distance_km::numeric, 6), round(fuel_l::numeric, 6), round(fuel_l_per_100km::numeric, 6)")
        mart = sorted(conn.execute(f"SELECT {compared} FROM mart.telemetry_metrics").fetchall())
        lake = sorted(conn.execute(f"SELECT {compared} FROM staging_aggregated.telemetry_metrics").fetchall())
        if mart != lake:
            only_mart, only_lake = set(mart) - set(lake), set(lake) - set(mart)
            raise AssertionError(f"mart.telemetry_metrics differs from the lake's: {len(only_mart)} rows only in the mart (first {sorted(only_mart)[:2]}), "
                                 f"{len(only_lake)} only in the lake (first {sorted(only_lake)[:2]})")
        counts = {t: conn.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
                  for t in ("dim_date", "dim_city", "dim_vehicle", "dim_customer", "dim_shipment", "dim_weather", "dim_device", "fact_fuel_interval", "fact_daily_fuel",
                            "fact_sensor_reading")}
    ctx.warehouse = {"days": days, "loadSeconds": round(seconds, 2), "rows": counts, "loadLog": logs, "martRows": len(mart)}
    unknown = {k: sum(log[k] for log in logs.values()) for k in ("without_shipment", "unknown_customer", "without_weather", "no_device_record", "unknown_device_version")}
    return (f"{len(days)} dates loaded in {seconds:.1f} s; {counts['fact_fuel_interval']:,} interval facts, {counts['fact_daily_fuel']} daily rows, "
            f"{counts['fact_sensor_reading']:,} reading facts over {counts['dim_device'] - 1} device versions; "
            f"mart.telemetry_metrics equals the lake's {len(mart)} rows; to unknown members: {unknown}")


def kpi_queries(ctx: Context) -> str:
    """Every KPI of the catalogue over the run's days, as `npm run kpi -- <name> --from --to` asks
    Athena: the statement the TypeScript core sends, run on Trino. Spark runs the same KPI, and
    the two answers must agree; the report shows Trino's, which is what Athena would answer."""
    from athena_sql import athena_statements, comparable
    from lakehouse.queries import run_kpi

    values = {"from": ctx.days[0], "to": ctx.days[-1]}
    ctx.spark.table(ctx.table("aggregated", "telemetry_metrics")).createOrReplaceTempView("telemetry_metrics")
    database = ctx.names["databases"]["aggregated"]
    lines, differ = [], []
    for name, statement in athena_statements(values).items():
        columns, rows = ctx.trino.execute_with(statement["sql"], statement["executionParameters"], schema=database)
        spark_rows = run_kpi(ctx.spark, (ROOT / "queries" / statement["file"]).read_text(encoding="utf-8"), **values).collect()
        if comparable(rows) != comparable(spark_rows):
            differ.append(name)
        stem = statement["file"].removesuffix(".sql")
        names = [c["name"] for c in columns]
        ctx.kpis[stem] = {"columns": names, "rows": rows, "bytesRead": int(ctx.trino.last_stats.get("physicalInputBytes", 0))}
        lines.append(zones.format_table(stem, names, rows))
    print()
    print("\n\n".join(lines))
    if differ:
        raise AssertionError(f"Trino and Spark answer differently for {', '.join(differ)}: the SQL means one thing to Athena and another to the tests")
    pruned = kpi_reads_only_its_days(ctx, database)
    read = ", ".join(f"{k} {v['bytesRead'] / 1000:.1f} kB" for k, v in ctx.kpis.items())
    return (f"{len(ctx.kpis)} KPIs of the catalogue from {values['from']} to {values['to']}, on Trino as Athena runs them; Spark agrees on every row; "
            f"read: {read}; {pruned}")


def kpi_reads_only_its_days(ctx: Context, database: str) -> str:
    """Every KPI asked for the first day alone reads no more bytes than that day's files hold
    (the table is partitioned by metric_date; Iceberg plans the scan from the partition values, so
    another day's file is never opened), and fewer than over the whole run. Athena bills the
    bytes it reads: this is what a one-day question costs."""
    from athena_sql import athena_statements

    day = ctx.days[0]
    _, files = ctx.trino.execute(f"SELECT count(*), coalesce(sum(file_size_in_bytes), 0) FROM \"telemetry_metrics$files\" WHERE partition.metric_date = DATE '{day}'",
                                 schema=database)
    day_files, day_bytes = files[0]
    problems = []
    for name, statement in athena_statements({"from": day, "to": day}).items():
        ctx.trino.execute_with(statement["sql"], statement["executionParameters"], schema=database)
        one_day = int(ctx.trino.last_stats.get("physicalInputBytes", 0))
        stem = statement["file"].removesuffix(".sql")
        ctx.kpis[stem]["bytesReadFirstDay"] = one_day
        if not 0 < one_day <= day_bytes or (len(ctx.days) > 1 and one_day >= ctx.kpis[stem]["bytesRead"]):
            problems.append(f"{stem}: {one_day} bytes for {day} alone, whose {day_files} file(s) hold {day_bytes}; {ctx.kpis[stem]['bytesRead']} over the whole run")
    if problems:
        raise AssertionError("a one-day KPI read more than its day's files: " + "; ".join(problems))
    return f"asked for {day} alone, each read at most that day's {day_files} file(s), {day_bytes / 1000:.1f} kB"


def write_report(ctx: Context, steps: Steps) -> str:
    import report

    path = ctx.path("report.html")
    report.write(path, summary(ctx, steps))
    return str(path)
