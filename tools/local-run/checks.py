"""What the local run checks: a supplied raw zone before anything runs, and, for a generated run,
every count and KPI row against the generator's ground truth (computed by synthetic.py from the
fleet it generated, independently of the code under test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import live_telemetry
import synthetic
import zones
from runner import Context, StepFailed


def check_supplied(raw: Path, streaming_only: bool = False) -> list[str]:
    """The days of a supplied raw zone; fails naming every problem and the expected layout. For the
    streaming path alone, the sensor readings are what is required."""
    problems, days = zones.check_supplied_raw(raw, required=("sensor_readings",) if streaming_only else zones.REQUIRED_DATASETS)
    if problems:
        raise StepFailed("check the supplied raw files", "\n    ".join([*problems, "expected layout: see the README, 'Run it on your own data'"]))
    return days


def streaming_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the sensor readings' path: the pull's quarantine, Flink's output."""
    e, f = ctx.expected, ctx.flows
    sensors = f.of("sensor_readings")
    return [
        ("distinct sensor readings quarantined by the pull", len(zones.quarantined_keys(ctx.path("raw-zone"), "sensors", "sensor_readings", "reading_id")),
         e.sensor_readings_quarantined_by_pull),
        ("sensor readings after deduplication", sensors.count("flink_written"), e.sensor_readings_unique),
        ("sensor readings rejected as late", sensors.count("late_rejected"), 0),
        ("sensor readings rejected as conflicting copies", sensors.count("conflicting_rejected"), 0),
        *[(f"sensor readings {k}", f.sensor_enrichment.get(k, 0), v) for k, v in sorted(e.sensor_enrichment.items())],
        *[(f"sensor readings with device version {k}", f.sensor_device_versions.get(k, 0), v) for k, v in sorted(e.sensor_device_versions.items())],
    ]


def alerts_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the live alerts: the table's alerts against the planted episodes."""
    if ctx.alerts is None:
        return []
    a = ctx.alerts
    shape = lambda alert: (alert["vehicle_id"], alert["rule"], alert["opened_at"], alert["closed_at"], round(float(alert["peak"]), 2))  # noqa: E731
    kinds = [e["kind"] for e in a["events"]]
    return [
        ("live alerts in the table (vehicle, rule, opened, closed, peak)", [shape(x) for x in a["alerts"]], [shape(x) for x in ctx.expected_alerts]),
        ("live alerts still open", sum(1 for x in a["alerts"] if x["status"] == "open"), 0),
        ("live alert openings published", kinds.count("opened"), len(ctx.expected_alerts)),
        ("live alert closings published", kinds.count("closed"), len(ctx.expected_alerts)),
        ("live readings rejected by the contract", a["counts"].get("ReadingsRejected", 0), live_telemetry.BROKEN_READINGS),
        ("live readings skipped as redelivered", a["counts"].get("ReadingsSkipped", 0), 1),
    ]


def warehouse_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the warehouse load: every interval and every enriched reading a
    fact, every device version a dimension row, the unknown members' counts."""
    if ctx.warehouse is None:
        return []
    outcomes = ctx.expected.interval_outcomes
    logs = ctx.warehouse["loadLog"].values()
    enrichment = ctx.expected.sensor_enrichment
    return [
        ("warehouse reading facts (every enriched reading)", ctx.warehouse["rows"]["fact_sensor_reading"], sum(enrichment.values())),
        ("warehouse readings without a device record", sum(log["no_device_record"] for log in logs), enrichment.get("NO_DEVICE_RECORD", 0)),
        ("warehouse readings under a device version the lake lacks", sum(log["unknown_device_version"] for log in logs), 0),
        ("warehouse device versions (type 2, besides the unknown member)", ctx.warehouse["rows"]["dim_device"] - 1, ctx.expected.device_update_records),
        ("warehouse interval facts (every outcome)", ctx.warehouse["rows"]["fact_fuel_interval"], sum(outcomes.values())),
        ("warehouse intervals without a shipment", sum(log["without_shipment"] for log in logs), outcomes.get("no_shipment", 0)),
        ("warehouse intervals without weather", sum(log["without_weather"] for log in logs), outcomes.get("no_weather", 0)),
        ("warehouse intervals of a customer the CRM does not know", sum(log["unknown_customer"] for log in logs), 0),
    ]


def batch_checks(ctx: Context) -> list[tuple[str, Any, Any]]:
    """(check, got, expected) of the Glue path's counts and tables."""
    e, f = ctx.expected, ctx.flows
    return [
        ("telemetry messages read", f.of("telematics").count("glue_read"), e.telematics_raw_rows),
        ("telemetry readings quarantined", f.of("telematics").count("glue_quarantined"), e.telematics_quarantined),
        ("telemetry duplicates dropped", f.of("telematics").count("duplicates_dropped"), e.telematics_duplicates),
        ("weather rows in the raw zone (pulled, and late hours)", f.of("weather").count("raw_rows"), e.weather_rows_pulled),
        ("weather rows quarantined by the pull", f.of("weather").count("raw_quarantined"), e.weather_quarantined_by_pull),
        ("weather hours still missing in the processed table (flagged)", ctx.spark.table(ctx.table("processed", "weather")).where("is_missing").count(), e.weather_missing_hours),
        ("shipment changes read", f.of("shipments").count("glue_read"), e.shipments_raw_rows),
        ("shipment changes quarantined", f.of("shipments").count("glue_quarantined"), e.shipments_quarantined),
        ("shipments current", ctx.spark.table(ctx.table("processed", "shipments")).count(), e.shipments_current),
        ("customers current", ctx.spark.table(ctx.table("processed", "customers")).count(), e.customers_current),
        *[(f"intervals {k}", f.interval_outcomes.get(k, 0), v) for k, v in sorted(e.interval_outcomes.items())],
        *[(f"{dataset}: {counter}", f.of(dataset).count(counter), want) for dataset, counts in sorted(e.dataset_counts.items()) for counter, want in sorted(counts.items())],
    ]


def check_ground_truth(ctx: Context) -> str:
    """The generated run knows its answer: compare every count and KPI row with it (with --only
    streaming, the sensor readings' counts alone)."""
    streaming_only = ctx.args.only == "streaming"
    checks = [*(streaming_checks(ctx) if streaming_only else [*batch_checks(ctx), *warehouse_checks(ctx), *streaming_checks(ctx)]), *alerts_checks(ctx)]
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
