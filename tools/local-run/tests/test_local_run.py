"""The local platform run, end to end, as a user runs it (tools/local-run/run.py in a process of
its own): on a synthetic fleet, on the same data supplied as raw files, and with the faults a user
meets (a raw zone missing a dataset, a corrupt extract, an output folder that is not ours). The
report is opened in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUN = ROOT / "tools" / "local-run" / "run.py"
CHROMIUM = shutil.which("chromium")


def local_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUN), *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Five vehicles (the fifth has no device record) over two days."""
    out = tmp_path_factory.mktemp("generated") / "out"
    result = local_run("--vehicles", "5", "--days", "2", "--out", str(out))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out, result, json.loads((out / "summary.json").read_text())


def test_every_step_runs_and_reports_its_time(generated):
    _, result, summary = generated
    names = [s["name"] for s in summary["steps"]]
    assert [s["status"] for s in summary["steps"]] == ["ok"] * len(names)
    for day in ("2026-11-02", "2026-11-03"):
        for job in ("cdc_etl customers", "cdc_etl shipments", "telematics_etl", "weather_etl", "aggregate_metrics"):
            assert f"glue {job} {day}" in names
    # each step's line carries its number, its status and its time
    assert re.search(rf"\[ ?1/{len(names)}\] read the dev configuration .* ok \d+\.\d s", result.stdout)
    assert "flink enrichment on a local mini cluster" in names


def test_results_equal_the_ground_truth(generated):
    _, _, summary = generated
    checks = summary["checks"]
    assert checks and all(c["ok"] for c in checks), [c for c in checks if not c["ok"]]
    flows = summary["flows"]
    assert flows["telematics"]["glue_quarantined"] == 2 * 3 and flows["sensor_enrichment"]["NO_DEVICE_RECORD"] == 2 * 288
    assert flows["weather"]["raw_quarantined"] == 2 and flows["weather"]["missing_hours"] == 4


def test_kpi_tables_are_printed_from_the_catalogue_as_trino_answers_them(generated):
    _, result, summary = generated
    assert sorted(summary["kpis"]) == ["daily_fuel", "fuel_by_city", "fuel_by_customer_segment", "fuel_by_temperature_range",
                                       "fuel_by_weather_condition", "low_temperature_metrics"]
    steps = {s["name"]: s for s in summary["steps"]}
    kpi_step = next(s for name, s in steps.items() if name.startswith("KPIs of the catalogue"))
    assert kpi_step["status"] == "ok" and "Spark agrees on every row" in kpi_step["summary"]
    by_city = summary["kpis"]["fuel_by_city"]
    assert [r[0] for r in by_city["rows"]] == ["Barcelona", "Madrid"]  # the dev config's cities
    for name in summary["kpis"]:
        assert f"{name} (" in result.stdout
    # a ratio of sums: 100 x fuel / distance of the printed row
    for _, _, distance, fuel, per_100 in by_city["rows"]:
        assert per_100 == pytest.approx(100 * fuel / distance)


def test_live_alerts_equal_the_planted_episodes_and_the_report_lists_them(generated):
    out, _, summary = generated
    alerts = summary["alerts"]
    assert [(a["vehicle_id"], a["rule"], a["status"]) for a in alerts["alerts"]] == [
        ("veh-0000", "engineOverheat", "closed"), ("veh-0001", "vehicleSilent", "closed"), ("veh-0002", "fuelLoss", "closed")]
    checks = {c["check"]: c for c in summary["checks"]}
    assert checks["live alerts in the table (vehicle, rule, opened, closed, peak)"]["ok"]
    # the state is written once a vehicle and window, not once a reading
    assert alerts["writesPer10kReadings"] < 10_000 * 0.6
    report = (out / "report.html").read_text()
    assert "<h2>Live alerts</h2>" in report and "vehicleSilent" in report and "per 10,000 readings" in report


def test_the_warehouse_is_loaded_and_its_mart_equals_the_lakes_kpi(generated):
    out, _, summary = generated
    warehouse = summary["warehouse"]
    assert warehouse["days"] == ["2026-11-02", "2026-11-03"]
    checks = {c["check"]: c for c in summary["checks"]}
    assert checks["warehouse interval facts (every outcome)"]["ok"] and checks["warehouse intervals without weather"]["ok"]
    # the mart has every KPI row the aggregation wrote (the step compared them row for row), every interval a fact
    assert warehouse["martRows"] == summary["flows"]["telemetry_metrics"]["glue_written"] > 0
    assert warehouse["rows"]["fact_fuel_interval"] == summary["flows"]["telemetry_metrics"]["glue_read"]
    # every enriched reading a fact (through the lake's Iceberg table), every device version a dimension row
    assert warehouse["rows"]["fact_sensor_reading"] == summary["flows"]["sensor_readings"]["flink_written"] > 0
    for check in ("warehouse reading facts (every enriched reading)", "warehouse readings without a device record",
                  "warehouse readings under a device version the lake lacks", "warehouse device versions (type 2, besides the unknown member)"):
        assert checks[check]["ok"], check
    report = (out / "report.html").read_text()
    assert "<h2>Warehouse</h2>" in report and "fact_fuel_interval" in report and "fact_sensor_reading" in report


def test_the_report_renders_its_charts_in_chromium(generated, tmp_path):
    assert CHROMIUM, "chromium is missing: scripts/test.sh installs Debian's chromium package"
    out, _, summary = generated
    report = out / "report.html"
    page = report.read_text()
    # self-contained: no linked stylesheet, script, image or font
    assert not re.search(r"<link|\b(src|href)\s*=|@import|url\(", page), "the report must not load anything"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
         "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-render-errors=""' in body
    assert 'data-charts-rendered="5"' in body
    bars = dict(re.findall(r'data-query="(\w+)"[^>]*data-rendered-bars="(\d+)"', dom))
    charted = ("fuel_by_city", "fuel_by_temperature_range", "fuel_by_weather_condition", "fuel_by_customer_segment", "daily_fuel")
    assert bars == {name: str(len(summary["kpis"][name]["rows"])) for name in charted}
    assert bars["fuel_by_weather_condition"] == "5" and bars["fuel_by_temperature_range"] == "3"


def same_rows(a: dict, b: dict) -> bool:
    """Equal KPI tables: the same columns and rows, in any order (low_temperature_metrics has no
    ORDER BY), sums equal up to their summation order."""
    key = lambda row: [str(v) for v in row if not isinstance(v, float)]  # noqa: E731
    rows_a, rows_b = sorted(a["rows"], key=key), sorted(b["rows"], key=key)
    return a["columns"] == b["columns"] and len(rows_a) == len(rows_b) and all(
        x == pytest.approx(y, rel=1e-9) if isinstance(x, float) else x == y for ra, rb in zip(rows_a, rows_b) for x, y in zip(ra, rb)
    )


def supplied_from(generated_out: Path, target: Path) -> Path:
    """A user's raw zone: what the generated run's raw bucket held, and its device updates."""
    shutil.copytree(generated_out / "raw-zone", target)
    (target / "streams").mkdir()
    shutil.copy(generated_out / "sources" / "streams" / "device_updates.ndjson", target / "streams" / "device_updates.ndjson")
    return target


def test_supplied_raw_files_give_the_same_kpis_and_a_corrupt_extract_is_left_out_with_its_reason(generated, tmp_path):
    out, _, summary = generated
    supplied = supplied_from(out, tmp_path / "mine")
    # A corrupt extract beside the day's whole files: left out with its reason, the rest read as without it.
    (supplied / "raw" / "legacy_sql" / "shipments" / "2026-11-02" / "LOAD00000002.parquet").write_bytes(b"not parquet at all")
    result = local_run("--raw", str(supplied), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mine = json.loads((tmp_path / "out" / "summary.json").read_text())
    step = next(s for s in mine["steps"] if s["name"] == "glue cdc_etl shipments 2026-11-02")
    assert "1 unreadable raw object(s) left out" in step["summary"]
    assert mine["flows"]["shipments"]["glue_unreadable_objects"] == 1
    listed = [json.loads(line) for f in (tmp_path / "out" / "processed-zone" / "quarantine" / "shipments" / "unreadable_objects" / "ingest_date=2026-11-02").glob("*.json")
              for line in f.read_text().splitlines()]
    assert [Path(x["object"]).name for x in listed] == ["LOAD00000002.parquet"] and listed[0]["reasons"][0]
    assert mine["mode"] == "supplied raw files" and mine["days"] == ["2026-11-02", "2026-11-03"]
    assert mine["kpis"].keys() == summary["kpis"].keys()
    for name, table in summary["kpis"].items():
        assert same_rows(mine["kpis"][name], table), name
    assert mine["flows"]["sensor_enrichment"] == summary["flows"]["sensor_enrichment"]
    assert not any(s["name"].startswith(("weather-pull", "sensor-pull", "generate")) for s in mine["steps"])


def test_supplied_raw_files_without_customers_put_every_kpi_row_in_the_unknown_segment(generated, tmp_path):
    out, _, summary = generated
    supplied = supplied_from(out, tmp_path / "mine")
    shutil.rmtree(supplied / "raw" / "crm")
    shutil.rmtree(supplied / "raw" / "sensors")  # optional too: the Flink steps are skipped
    result = local_run("--raw", str(supplied), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mine = json.loads((tmp_path / "out" / "summary.json").read_text())
    low = mine["kpis"]["low_temperature_metrics"]
    segment = low["columns"].index("customer_segment")
    assert low["rows"] and {row[segment] for row in low["rows"]} == {"unknown"}
    # segments aside, the fuel figures are those of the full run
    assert same_rows(mine["kpis"]["fuel_by_city"], summary["kpis"]["fuel_by_city"])
    skipped = {s["name"] for s in mine["steps"] if s["status"] == "skipped"}
    assert "flink enrichment on a local mini cluster" in skipped and "glue cdc_etl customers 2026-11-02" in skipped


def test_a_supplied_raw_zone_without_a_required_dataset_is_refused(generated, tmp_path):
    out, _, _ = generated
    supplied = supplied_from(out, tmp_path / "mine")
    shutil.rmtree(supplied / "raw" / "weather" / "weather")
    (supplied / "raw" / "iot" / "telematics" / "2026-11-02").mkdir()
    (supplied / "raw" / "iot" / "telematics" / "2026-11-02" / "part.json").write_text("{}\n")
    result = local_run("--raw", str(supplied), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "FAILED at step 'check the supplied raw files'" in result.stderr
    assert "raw/weather/weather/: no files; weather is required for the KPIs" in result.stderr
    assert "raw/iot/telematics/: 1 files outside raw/iot/telematics/ingest_date=yyyy-MM-dd/ingest_hour=HH/, e.g. raw/iot/telematics/2026-11-02/part.json" in result.stderr
    assert "left behind: nothing" in result.stderr


def test_an_output_folder_that_is_not_a_run_is_left_alone(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    result = local_run("--vehicles", "1", "--days", "1", "--out", str(tmp_path))
    assert result.returncode == 1 and "is not a local-run output folder" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(("options", "message"), [
    (["--vehicles", "0"], "--vehicles and --days must be at least 1 (got 0 and 3)"),
    (["--start", "2026-13-01"], "--start must be a day as yyyy-MM-dd (got '2026-13-01')"),
    (["--horizon-days", "0"], "--horizon-days must be at least 1 (got 0)"),
    (["--backfill", "2026-11-04..2026-11-02"], "--backfill must be FROM..TO, two days as yyyy-MM-dd with FROM not after TO (got '2026-11-04..2026-11-02')"),
    (["--backfill", "2026-11-02"], "--backfill must be FROM..TO"),
    (["--only", "streaming", "--backfill", "2026-11-02..2026-11-03"], "--backfill recomputes the KPI, which --only streaming does not run"),
    (["--faults", "--days", "1"], "--faults runs on a generated fleet of 2 days or more, the whole path (not with --raw or --only)"),
    (["--faults", "--only", "streaming"], "--faults runs on a generated fleet of 2 days or more"),
])
def test_bad_options_are_refused_before_anything_runs(tmp_path, options, message):
    result = local_run(*options, "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "FAILED at step 'check the options'" in result.stderr and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_only_streaming_enriches_supplied_sensor_files_alone(generated, tmp_path):
    out, _, summary = generated
    supplied = tmp_path / "mine"
    shutil.copytree(out / "raw-zone" / "raw" / "sensors" / "sensor_readings", supplied / "raw" / "sensors" / "sensor_readings")
    (supplied / "streams").mkdir()
    shutil.copy(out / "sources" / "streams" / "device_updates.ndjson", supplied / "streams" / "device_updates.ndjson")
    result = local_run("--raw", str(supplied), "--only", "streaming", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mine = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert not any(s["name"].startswith(("glue", "KPI", "upload")) for s in mine["steps"])
    # the same readings, statuses and device versions as the full run's enrichment
    for key in ("sensor_enrichment", "sensor_device_versions"):
        assert mine["flows"][key] == summary["flows"][key], key
    assert mine["flows"]["sensor_readings"]["flink_written"] == summary["flows"]["sensor_readings"]["flink_written"]


def test_device_updates_the_contract_does_not_allow_are_refused_before_anything_runs(generated, tmp_path):
    out, _, _ = generated
    supplied = supplied_from(out, tmp_path / "mine")
    path = supplied / "streams" / "device_updates.ndjson"
    updates = [json.loads(line) for line in path.read_text().splitlines()]
    updates[0]["data"]["updated_at"] = 1763715600000  # epoch milliseconds, as telematics writes its ts
    del updates[1]["data"]["calibration_scale"]
    updates[2] = updates[2]["data"]  # the row without DMS's envelope
    path.write_text("".join(json.dumps(u) + "\n" for u in updates))
    result = local_run("--raw", str(supplied), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "FAILED at step 'check the supplied raw files'" in result.stderr
    assert ("streams/device_updates.ndjson line 1: data.updated_at: 1763715600000 is a number; timestamps are ISO-8601 text with a zone, "
            "such as 2026-11-21T10:00:00Z (epoch milliseconds are not read)") in result.stderr
    assert "streams/device_updates.ndjson line 2: data.calibration_scale: required" in result.stderr
    assert "streams/device_updates.ndjson line 3: not a DMS record: metadata.record-type must be data or control (contract raw.envelope)" in result.stderr
    assert "left behind: nothing" in result.stderr


def test_a_crm_feed_that_starts_a_day_after_the_telemetry_runs_through_with_the_same_kpis(generated, tmp_path):
    """The CRM's full load arrives in the second day's folder: the first day's KPI is computed with
    every segment unknown, then recomputed when the customers arrive (their first version stands
    for the time before it), so the final KPIs equal the full run's."""
    out, _, summary = generated
    supplied = supplied_from(out, tmp_path / "mine")
    customers = supplied / "raw" / "crm" / "customers"
    first, second = sorted(p.name for p in customers.iterdir())[:2]
    for f in (customers / first).iterdir():
        f.rename(customers / second / f.name)
    (customers / first).rmdir()
    result = local_run("--raw", str(supplied), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    mine = json.loads((tmp_path / "out" / "summary.json").read_text())
    for name, table in summary["kpis"].items():
        assert same_rows(mine["kpis"][name], table), name
    steps = {s["name"]: s for s in mine["steps"]}
    assert steps[f"glue cdc_etl customers {first}"]["status"] == "skipped"
    assert first in steps[f"glue aggregate_metrics {second}"]["summary"]  # the first day recomputed
