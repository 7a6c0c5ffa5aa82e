"""The fault-injection run: `npm run local -- --faults`.

The normal run with faults injected where AWS and the partners produce them, then the same checks
against the generator's ground truth, and a table per fault: what was injected, records in and
out, quarantined with a reason, lost (must be 0), duplicated in the processed and aggregated
tables (must be 0), and whether the KPIs equal the ground truth.

Injected:
- S3 answering 500 and 503 for a while during the weather and sensor pulls, and Kinesis refusing
  part of each PutRecords call and throttling whole calls for a while (fault_proxy.py, in front
  of moto);
- the weather API down for an hour across the first midnight (every request answered 503), then back;
- S3 500/503 while the partner's SFTP files are uploaded and checked (their first writes go through the proxy);
- every DMS change file delivered twice, the copy's rows in reverse commit order and named to
  sort before the original;
- the first day's Glue jobs run twice, and the first day rerun again after the last one.

- a Parquet change file and a GZIP telemetry object cut short in the raw zone (partial deliveries
  beside their whole copies): the jobs leave them out with their reason (lakehouse.raw_objects).

- the Flink job killed in the middle of the stream and restarted from its last checkpoint
  (enrichment/restart.py); what it had emitted after the checkpoint is delivered twice, as the
  Firehose sinks would, and the landed job drops the copies.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, Callable

import pyarrow.parquet as pq

from fault_proxy import FaultProxy
from flows import Flows
from runner import Context, Step

# The weather API's outage: across the first midnight, 00:00 to 01:00 UTC of the second day. The
# 00:05 run, which takes the first day's last hour, fails with Lambda's retries; the 01:05 run, the
# next one of the hourly schedule, pulls its own day and the whole day before again (CATCH_UP_HOURS
# in lambda/weather-pull/core.ts).
OUTAGE_HOURS = (0, 1)

# The processed and aggregated tables checked for duplicates, with their keys.
AGGREGATED_KEYS = {"telemetry_metrics": ["metric_date", "city", "temp_range", "weather_condition", "customer_segment"]}


def outage_window(ctx: Context) -> dict[str, str]:
    second = date.fromisoformat(ctx.days[1])
    iso = lambda hour: datetime.combine(second, time(hour), timezone.utc).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {"from": iso(OUTAGE_HOURS[0]), "to": iso(OUTAGE_HOURS[1])}


def runs_after_outage(ctx: Context) -> list[str]:
    """The hourly weather runs the local run adds after the outage (it simulates only each day's
    last run otherwise): the first one after the API is back."""
    second = date.fromisoformat(ctx.days[1])
    return [datetime.combine(second, time(OUTAGE_HOURS[1], 5), timezone.utc).isoformat().replace("+00:00", "Z")]


def start_fault_proxy(ctx: Context) -> str:
    ctx.proxy = FaultProxy(ctx.moto.endpoint).start()
    return f"{ctx.proxy.endpoint} in front of moto; the pulls call S3 and Kinesis through it"


def deliver_dms_twice_out_of_order(ctx: Context) -> str:
    """Every DMS Parquet file of the landing folder delivered a second time, as DMS does after a
    task restart: the copy's rows in reverse commit order, under a name that sorts before the
    original's. The raw zone then holds each change twice; the ground truth of what the jobs read
    and quarantine doubles with it, and nothing else may change."""
    landing = ctx.path("sources", "landing", "raw")
    copies = rows = 0
    counted: dict[str, int] = {}
    for source, dataset in (("legacy_sql", "shipments"), ("crm", "customers")):
        for path in sorted((landing / source / dataset).rglob("*.parquet")):
            table = pq.read_table(path)
            order = sorted(range(table.num_rows), key=lambda i: table.column("commit_ts")[i].as_py(), reverse=True)
            pq.write_table(table.take(order), path.with_name(f"0-redelivered-{path.name}"))
            copies += 1
            rows += table.num_rows
            counted[dataset] = counted.get(dataset, 0) + table.num_rows
    e = ctx.expected
    e.shipments_raw_rows *= 2
    e.shipments_quarantined *= 2  # the planted bad row arrives twice and is quarantined twice, each with its reason
    e.dataset_counts["customers"]["glue_read"] *= 2
    ctx.fault_results["dms"] = {"injected": copies, "rows": counted}
    return f"{copies} change files delivered twice ({rows} changes again), each copy in reverse commit order and named to sort first"


def deliver_cut_short_objects(ctx: Context) -> str:
    """A partial delivery beside its whole copy, as a writer that failed mid-upload and retried
    under another name leaves one: the first shipments change file and the first telemetry object,
    each cut at half its bytes. The jobs must leave each out with its reason; nothing is lost,
    since the whole copy carries every record."""
    landing = ctx.path("sources", "landing", "raw")
    cut = []
    for dataset, pattern in (("shipments", "legacy_sql/shipments/*/*.parquet"), ("telematics", "iot/telematics/**/*.gz")):
        whole = sorted(p for p in landing.glob(pattern) if "redelivered" not in p.name)[0]
        partial = whole.with_name(f"{whole.stem}-partial{whole.suffix}")
        partial.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
        ctx.expected.dataset_counts[dataset]["glue_unreadable_objects"] += 1
        cut.append(partial.relative_to(landing).as_posix())
    ctx.fault_results["cut_short"] = cut
    return "cut short, beside their whole copies: " + ", ".join(cut)


def run_flink_killed_and_restored(ctx: Context) -> str:
    """The enrichment over the same streams, killed after 6 of 10 chunks of readings and restarted
    from the checkpoint taken after 4 (enrichment/restart.py). The rows the killed job had emitted
    after that checkpoint go to flink/redelivered, which land_enriched lands beside the output,
    as Firehose, which delivers at least once, would have."""
    if not ctx.flows.of("sensor_readings").count("stream_records"):
        return "skipped: no sensor readings on the stream"
    from enrichment.restart import run_killed_and_restored
    from steps import flink_failure, flink_settings

    try:
        restart = run_killed_and_restored(str(ctx.path("flink", "readings", "part-0.json")), str(ctx.path("flink", "devices", "part-0.json")),
                                          str(ctx.path("flink", "restart")), str(ctx.path("flink", "enriched")), str(ctx.path("flink", "rejected")),
                                          **flink_settings(ctx))
    except Exception as error:
        raise RuntimeError(f"the Flink job failed: {flink_failure(error)}") from error
    for sink, lines in restart.redelivered.items():
        if lines:
            folder = ctx.path("flink", "redelivered", sink)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "part-0.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx.fault_results["flink"] = restart.as_json()
    copies = restart.as_json()["redelivered"]
    return (f"checkpoint {restart.checkpoint_id} after {restart.readings_in_checkpoint:,} readings; killed {restart.readings_read_again:,} readings later; "
            f"restarted from the checkpoint, which read those again; {copies['enriched']:,} enriched and {copies['rejected']:,} rejected rows "
            f"emitted between the checkpoint and the kill delivered twice")


def rerun(steps: list[Step]) -> list[Step]:
    """The same Glue steps again, as a retried or replayed state machine runs them. A rerun's
    counts go to the fault table, not to the run's flows: the flows are what the data is."""
    def again(name: str, action: Callable[[Context], str]) -> Step:
        def run(ctx: Context) -> str:
            kept = ctx.flows
            ctx.flows = Flows(datasets={}, interval_outcomes=kept.interval_outcomes, sensor_enrichment=kept.sensor_enrichment,
                              sensor_device_versions=kept.sensor_device_versions)
            try:
                summary = action(ctx)
            finally:
                rerun_flows, ctx.flows = ctx.flows, kept
                # The aggregation's counts are the KPI table as it stands (its intervals and rows),
                # not counts of a run: a rerun's replace the earlier ones, as on AWS.
                if "telemetry_metrics" in rerun_flows.datasets:
                    kept.datasets["telemetry_metrics"] = rerun_flows.datasets.pop("telemetry_metrics")
                    kept.interval_outcomes = rerun_flows.interval_outcomes
            glue = ctx.fault_results.setdefault("glue", {"reruns": 0, "read": 0, "written": 0, "quarantined": 0})
            glue["reruns"] += 1
            for flow in rerun_flows.datasets.values():
                glue["read"] += flow.count("glue_read")
                glue["written"] += flow.count("glue_written")
                glue["quarantined"] += flow.count("glue_quarantined")
            return summary
        return (f"{name} (again)", run)

    return [again(name, action) for name, action in steps]


def _duplicates_and_rows(ctx: Context, table: str, key: list[str]) -> tuple[int, int]:
    df = ctx.spark.table(table)
    rows = df.count()
    return rows - df.select(*key).distinct().count(), rows


def fault_table(ctx: Context) -> str:
    """The per-fault table, after the ground-truth check passed: every count and KPI row of the
    run already equals the ground truth; here, per fault, what it met and what came out."""
    from lakehouse.contracts import load_contracts

    e, f = ctx.expected, ctx.flows
    duplicated: dict[str, int] = {}
    rows: dict[str, int] = {}
    for contract in load_contracts():
        table = ctx.table("processed", contract["dataset"])
        if "processed" in contract and ctx.spark.catalog.tableExists(table):
            duplicated[contract["dataset"]], rows[contract["dataset"]] = _duplicates_and_rows(ctx, table, contract["key"])
    for name, key in AGGREGATED_KEYS.items():
        duplicated[name], rows[name] = _duplicates_and_rows(ctx, ctx.table("aggregated", name), key)
    kpis_equal = all(c["ok"] for c in ctx.checks if c["check"].startswith("telemetry_metrics rows"))
    telematics_kept = e.telematics_raw_rows - e.telematics_quarantined - e.telematics_duplicates
    expected_rows = {
        "telematics": telematics_kept,
        "shipments": e.shipments_current,
        "customers": e.customers_current,
        "sensor_readings_enriched": sum(e.sensor_enrichment.values()),
        "device_updates": e.device_update_records,
        "telemetry_metrics": len(e.kpi),
    }
    lost = {d: expected_rows[d] - rows.get(d, 0) + duplicated.get(d, 0) for d in expected_rows}
    weather, sensors = f.of("weather"), f.of("sensor_readings")
    pulls = ctx.fault_results.get("pulls", {})
    glue = ctx.fault_results.get("glue", {"reruns": 0, "read": 0, "written": 0, "quarantined": 0})
    flink = ctx.fault_results.get("flink", {})
    proxy = ctx.proxy.injected.as_json() if ctx.proxy else {}
    # What each path must deliver (the ground truth) against what it delivered.
    weather_in, weather_out = e.weather_rows_pulled, weather.count("raw_rows")
    sensors_in, sensors_out = e.sensor_readings_unique, sensors.count("flink_written")
    dms_in = e.shipments_current + e.customers_current
    dms_out = rows.get("shipments", 0) - duplicated.get("shipments", 0) + rows.get("customers", 0) - duplicated.get("customers", 0)
    # The partner files step meets the proxy first; its share of the S3 faults has a row of its own.
    partner = ctx.fault_results.get("partner_files", {})
    partner_in = e.dataset_counts["telematics"]["partner_records_promoted"]
    partner_out = f.of("telematics").count("partner_records_promoted")
    table: list[dict[str, Any]] = [
        {"fault": "S3 answers 500 and 503 during the weather and sensor pulls",
         "injected": (f"{proxy.get('s3 PutObject answered 500', 0) - partner.get('s3 PutObject answered 500', 0)} x 500, "
                      f"{proxy.get('s3 PutObject answered 503', 0) - partner.get('s3 PutObject answered 503', 0)} x 503"),
         "in": weather_in + sensors_in, "out": weather_out + sensors_out,
         "quarantined": weather.count("raw_quarantined") + e.sensor_readings_quarantined_by_pull,
         "lost": weather_in - weather_out + sensors_in - sensors_out,
         "duplicated": duplicated.get("weather", 0) + duplicated.get("sensor_readings_enriched", 0),
         "duplicates removed": "a retried put rewrites the same key (weather: the day's object); the Flink job keeps one copy of a reading_id"},
        {"fault": "S3 answers 500 and 503 while partner files are uploaded, checked, claimed and promoted",
         "injected": (f"{partner.get('s3 PutObject answered 500', 0)} x 500, {partner.get('s3 PutObject answered 503', 0)} x 503; "
                      f"{partner.get('retried', 0)} check(s) run again as Lambda retries"),
         "in": partner_in, "out": partner_out, "quarantined": f.of("telematics").count("partner_files_rejected"),
         "lost": partner_in - partner_out, "duplicated": f.of("telematics").count("partner_files_promoted") - e.dataset_counts["telematics"]["partner_files_promoted"],
         "duplicates removed": "a content is promoted once: its claim (a conditional write) names the one raw key every retry and every repeat copies to"},
        {"fault": "Kinesis refuses part of each PutRecords call and throttles whole calls, for a while",
         "injected": f"{proxy.get('kinesis records refused inside a call', 0)} records refused, {proxy.get('kinesis PutRecords calls throttled whole', 0)} calls throttled",
         "in": sensors_in, "out": sensors_out, "quarantined": e.sensor_readings_quarantined_by_pull,
         "lost": sensors_in - sensors_out, "duplicated": duplicated.get("sensor_readings_enriched", 0),
         "duplicates removed": "the Flink job keeps the first copy of a reading_id (dedup state; flink-app tests); Firehose's copies of telemetry by the telematics job, by (vehicle_id, ts)"},
        {"fault": f"weather API down {OUTAGE_HOURS[0]:02d}:00-{OUTAGE_HOURS[1]:02d}:00 UTC on {ctx.days[1]}, then back",
         "injected": (f"{pulls.get('failed', 0)} run(s) failed with Lambda's retries (to the dead letters), {pulls.get('answers503', 0)} requests answered 503; "
                      f"the next run caught the day before up"),
         "in": weather_in, "out": weather_out, "quarantined": weather.count("raw_quarantined"),
         "lost": weather_in - weather_out, "duplicated": duplicated.get("weather", 0),
         "duplicates removed": "each run rewrites its day's object with every complete hour; the weather job keys by (city, observation_hour)"},
        {"fault": "DMS change files delivered twice, out of commit order",
         "injected": f"{ctx.fault_results.get('dms', {}).get('injected', 0)} files again",
         "in": dms_in, "out": dms_out, "quarantined": f.of("shipments").count("glue_quarantined"),
         "lost": dms_in - dms_out, "duplicated": duplicated.get("shipments", 0) + duplicated.get("customers", 0),
         "duplicates removed": "the CDC job keeps the latest change of a key by commit_ts, and MERGE applies it once"},
        {"fault": f"Glue: {ctx.days[0]} run twice, and rerun after {ctx.days[-1]}",
         "injected": f"{glue['reruns']} job runs again", "in": glue["read"], "out": glue["written"], "quarantined": glue["quarantined"],
         "lost": sum(lost.values()), "duplicated": sum(duplicated.values()),
         "duplicates removed": "telematics: readings already in the table dropped; CDC and keyed: MERGE by key; KPI: the dates' rows replaced"},
        {"fault": "Flink job killed mid-stream and restarted from its checkpoint",
         "injected": (f"killed {flink.get('readings_read_again', 0):,} readings after checkpoint {flink.get('checkpoint_id', '-')}; "
                      f"{flink.get('redelivered', {}).get('enriched', 0):,} enriched rows delivered twice"),
         "in": sensors_in, "out": rows.get("sensor_readings_enriched", 0) - duplicated.get("sensor_readings_enriched", 0),
         "quarantined": sensors.count("late_rejected") + sensors.count("conflicting_rejected"),
         "lost": lost["sensor_readings_enriched"], "duplicated": duplicated.get("sensor_readings_enriched", 0),
         "duplicates removed": ("the restarted job reads from the checkpoint with its state (dedup, device versions); Firehose's second copies "
                                "of what the killed job emitted after it are dropped by the landed job as exact copies (run_landed)")},
        {"fault": "a Parquet change file and a GZIP telemetry object cut short in the raw zone",
         "injected": f"{len(ctx.fault_results.get('cut_short', []))} objects cut short",
         "in": telematics_kept + e.shipments_current, "out": rows.get("telematics", 0) + rows.get("shipments", 0) - duplicated.get("telematics", 0) - duplicated.get("shipments", 0),
         "quarantined": f.of("telematics").count("glue_unreadable_objects") + f.of("shipments").count("glue_unreadable_objects"),
         "lost": lost["telematics"] + lost["shipments"], "duplicated": duplicated.get("telematics", 0) + duplicated.get("shipments", 0),
         "duplicates removed": "the unreadable object is left out with its reason (quarantine/<dataset>/unreadable_objects/); its whole copy is read"},
    ]
    for row in table:
        row["kpis equal the ground truth"] = kpis_equal
    ctx.fault_results["table"] = table
    ctx.fault_results["duplicated_by_table"] = duplicated
    ctx.fault_results["lost_by_table"] = lost
    bad = [f"{d}: {n} lost" for d, n in lost.items() if n] + [f"{d}: {n} duplicated" for d, n in duplicated.items() if n]
    if bad or not kpis_equal:
        raise AssertionError("the faults cost data: " + "; ".join(bad or ["KPI rows differ"]))
    return f"{len(table)} faults injected; 0 lost and 0 duplicated in {len(duplicated)} tables; the KPIs equal the ground truth"
