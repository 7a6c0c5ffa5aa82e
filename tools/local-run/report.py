"""The local run's report: one self-contained HTML file (no network, no external script or font)
with the KPI tables, bar charts of fuel consumption by city, temperature range and weather
condition, the row counts through each zone, the steps with their timings and, for a generated
run, the checks against the ground truth.

The charts are drawn in the browser from the data embedded in the page, as inline SVG. After
drawing, the page records on each chart how many bars have a visible size, and on <body> how
many charts rendered and any script error: the Chromium test reads those from the DOM.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

CHARTS = [
    ("fuel_by_city", "city", "Fuel consumption by city"),
    ("fuel_by_temperature_range", "temp_range", "Fuel consumption by temperature range"),
    ("fuel_by_weather_condition", "weather_condition", "Fuel consumption by weather condition"),
    ("fuel_by_customer_segment", "customer_segment", "Fuel consumption by customer segment"),
    ("daily_fuel", "metric_date", "Daily fuel consumption"),
]

# Columns of the zone table: (key in the run's flows, heading).
FLOW_COLUMNS = [
    ("raw_rows", "raw zone rows"),
    ("raw_quarantined", "quarantined by the pull"),
    ("stream_records", "stream records"),
    ("glue_read", "read by the job"),
    ("glue_quarantined", "quarantined by the job"),
    ("glue_unreadable_objects", "unreadable objects left out"),
    ("duplicates_dropped", "duplicates dropped"),
    ("late_rejected", "rejected as late"),
    ("conflicting_rejected", "rejected as conflicting copies"),
    ("glue_written", "written (processed / aggregated)"),
    ("flink_written", "written by Flink"),
    ("partner_files_promoted", "partner files promoted (SFTP)"),
    ("partner_files_repeated", "partner files sent again"),
    ("partner_files_rejected", "partner files refused"),
    ("partner_records_promoted", "partner readings promoted"),
    ("api_records_accepted", "records through the HTTPS API"),
    ("api_requests_refused", "HTTPS requests refused"),
    ("kafka_records_delivered", "Kafka records delivered"),
    ("kafka_records_refused", "Kafka records refused"),
]

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2733; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d5dbe3; padding-bottom: .3rem; }
.meta { color: #56606b; } .ok { color: #17803d; } .failed { color: #b42318; } .skipped { color: #8a6d00; }
table { border-collapse: collapse; margin: .6rem 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e4e8ee; padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; } th { background: #f3f5f8; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 1.2rem; }
.chart { border: 1px solid #e4e8ee; border-radius: 6px; padding: .6rem; }
.chart h3 { font-size: 1rem; margin: 0 0 .4rem; } .chart svg { width: 100%; height: auto; display: block; }
.bar { fill: #2f6db5; } .bar:hover { fill: #1d4f8c; } .axis { stroke: #8894a3; } .label { font-size: 12px; fill: #1d2733; } .value { font-size: 12px; fill: #1d2733; }
.empty { color: #8a6d00; }
"""

SCRIPT = """
(function () {
  const errors = [];
  window.addEventListener('error', (e) => { errors.push(String(e.message)); document.body.dataset.renderErrors = errors.join('; '); });
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, text) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  let rendered = 0;
  for (const chart of document.querySelectorAll('.chart[data-query]')) {
    try {
      const query = data.kpis[chart.dataset.query];
      const labelIndex = query ? query.columns.indexOf(chart.dataset.label) : -1;
      const valueIndex = query ? query.columns.indexOf('fuel_l_per_100km') : -1;
      const rows = query ? query.rows.filter((r) => r[valueIndex] !== null) : [];
      if (rows.length === 0 || labelIndex < 0 || valueIndex < 0) {
        chart.appendChild(Object.assign(document.createElement('p'), { className: 'empty', textContent: 'No KPI rows to chart.' }));
        chart.dataset.renderedBars = '0';
        continue;
      }
      const barHeight = 24, gap = 8, left = 110, right = 56, width = 380;
      const height = rows.length * (barHeight + gap) + 30;
      const max = Math.max(...rows.map((r) => r[valueIndex]));
      const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': chart.querySelector('h3').textContent });
      rows.forEach((r, i) => {
        const y = 10 + i * (barHeight + gap);
        const w = Math.max(1, ((width - left - right) * r[valueIndex]) / max);
        const bar = el('rect', { class: 'bar', x: left, y, width: w, height: barHeight, rx: 3 });
        bar.appendChild(el('title', {}, `${r[labelIndex]}: ${r[valueIndex].toFixed(2)} l/100 km over ${r[query.columns.indexOf('distance_km')].toFixed(1)} km`));
        svg.appendChild(bar);
        svg.appendChild(el('text', { class: 'label', x: left - 8, y: y + barHeight / 2 + 4, 'text-anchor': 'end' }, String(r[labelIndex])));
        svg.appendChild(el('text', { class: 'value', x: left + w + 6, y: y + barHeight / 2 + 4 }, r[valueIndex].toFixed(2)));
      });
      svg.appendChild(el('line', { class: 'axis', x1: left, x2: left, y1: 4, y2: height - 20 }));
      svg.appendChild(el('text', { class: 'label', x: left, y: height - 4 }, 'litres per 100 km'));
      chart.appendChild(svg);
      const visible = [...svg.querySelectorAll('rect.bar')].filter((b) => { const box = b.getBoundingClientRect(); return box.width > 0 && box.height > 0; });
      chart.dataset.renderedBars = String(visible.length);
      if (visible.length === rows.length) rendered += 1;
    } catch (e) {
      errors.push(`${chart.dataset.query}: ${e.message}`);
    }
  }
  document.body.dataset.chartsRendered = String(rendered);
  document.body.dataset.renderErrors = errors.join('; ');
})();
"""


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:,.2f}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def _table(columns: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric if numeric is not None else {i for i in range(len(columns)) if rows and isinstance(rows[0][i], (int, float)) and not isinstance(rows[0][i], bool)}
    head = "".join(f'<th class="{"num" if i in numeric else ""}">{html.escape(c)}</th>' for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _flows(flows: dict[str, dict[str, int]]) -> str:
    datasets = [d for d in ("customers", "shipments", "telematics", "weather", "sensor_readings", "device_updates", "telemetry_metrics") if d in flows]
    used = [(k, h) for k, h in FLOW_COLUMNS if any(k in flows[d] for d in datasets)]
    rows = []
    for d in datasets:
        rows.append([d, *[flows[d].get(k) for k, _ in used]])
    table = _table(["dataset", *[h for _, h in used]], rows, numeric=set(range(1, len(used) + 1)))
    extra = []
    for key, title in (("intervals", "Intervals by outcome (aggregate_metrics)"), ("sensor_enrichment", "Enriched sensor readings by status (Flink)"),
                       ("sensor_device_versions", "Enriched sensor readings by device version (Flink)")):
        if flows.get(key):
            extra.append(f"<h3>{title}</h3>" + _table(["outcome", "count"], [[k, v] for k, v in sorted(flows[key].items())]))
    return table + "".join(extra)


def _alerts(alerts: dict[str, Any] | None) -> str:
    """The live alerts section: the alerts table at the end of the run, and what it cost in writes."""
    if not alerts:
        return ""
    rows = [[a["vehicle_id"], a["rule"], a["severity"], a["status"], a["opened_at"], a["closed_at"] or "", a["peak"]] for a in alerts["alerts"]]
    writes = ", ".join(f"{k} {v:,}" for k, v in sorted(alerts["writes"].items()))
    return (f'<h2>Live alerts</h2><p class="meta">{alerts["readings"]:,} readings of the telemetry stream through the alerts function in '
            f'{alerts["invocations"]} invocations, the silent-vehicle check {alerts["silenceChecks"]} times; DynamoDB writes: {html.escape(writes)} '
            f'({alerts["writesPer10kReadings"]:,} per 10,000 readings).</p>'
            + _table(["vehicle", "rule", "severity", "status", "opened", "closed", "peak"], rows, numeric={6}))


def _warehouse(warehouse: dict[str, Any] | None) -> str:
    """The warehouse section: rows per table of the star, and the load's time."""
    if not warehouse:
        return ""
    rows = [[table, count] for table, count in warehouse["rows"].items()]
    total = lambda keys: {k: sum(log.get(k, 0) for log in warehouse["loadLog"].values()) for k in keys}  # noqa: E731
    intervals = total(("without_shipment", "unknown_customer", "without_weather"))
    readings = total(("no_device_record", "unknown_device_version"))
    listed = lambda counts: html.escape(", ".join(f"{k} {v}" for k, v in counts.items()))  # noqa: E731
    return (f'<h2>Warehouse</h2><p class="meta">{len(warehouse["days"])} days loaded into the star schema on a local PostgreSQL (Redshift\'s stand-in) '
            f'in {warehouse["loadSeconds"]:.1f} s; mart.telemetry_metrics equals the lake\'s {warehouse["martRows"]} rows. Pointed at an unknown member: '
            f'intervals {listed(intervals)}; readings {listed(readings)}.</p>' + _table(["table", "rows"], rows, numeric={1}))


FAULT_COLUMNS = ["fault", "injected", "in", "out", "quarantined", "lost", "duplicated", "kpis equal the ground truth", "duplicates removed"]


def _faults(faults: list[dict[str, Any]] | None) -> str:
    """The fault-injection run's table (tools/local-run/faults.py): one row per fault."""
    if not faults:
        return ""
    rows = [[("yes" if row[c] is True else "NO" if row[c] is False else row[c]) for c in FAULT_COLUMNS] for row in faults]
    return ('<h2>Faults injected</h2><p class="meta">The run with faults injected (--faults): per fault, the records its path must deliver (in), '
            'what it delivered (out), quarantined with a reason, lost and duplicated in the processed and aggregated tables (both must be 0), '
            'and whether the KPIs equal the ground truth.</p>' + _table(FAULT_COLUMNS, rows, numeric={2, 3, 4, 5, 6}))


def _read(kpi: dict[str, Any]) -> str:
    """What the query read from the table files on Trino: Athena bills what it scans, at least 10 MB a query."""
    return f"; read {kpi['bytesRead'] / 1000:,.0f} kB" if "bytesRead" in kpi else ""


def render(summary: dict[str, Any]) -> str:
    steps = summary["steps"]
    total = sum(s["seconds"] for s in steps)
    checks = summary.get("checks") or []
    verdict = ""
    if checks:
        good = all(c["ok"] for c in checks)
        verdict = f'<p class="{"ok" if good else "failed"}">{"All" if good else "Not all"} {len(checks)} checks against the generator\'s ground truth passed.</p>'
    if summary["mode"] == "generated":
        source = f"synthetic fleet: {summary['size']['vehicles']} vehicles x {summary['size']['days']} days"
    else:
        source = f"supplied raw files: {html.escape(summary['source'])}"
    charts = "".join(
        f'<div class="chart" data-query="{q}" data-label="{label}"><h3>{html.escape(title)}</h3></div>' for q, label, title in CHARTS
    )
    kpi_tables = "".join(
        f"<h3>{html.escape(name)} <small class=\"meta\">(queries/{html.escape(name)}.sql{_read(k)})</small></h3>" + _table(k["columns"], k["rows"])
        for name, k in sorted(summary["kpis"].items())
    )
    step_rows = "".join(
        f'<tr><td>{i}</td><td>{html.escape(s["name"])}</td><td class="{s["status"]}">{s["status"]}</td><td class="num">{s["seconds"]:.1f}</td><td>{html.escape(s["summary"])}</td></tr>'
        for i, s in enumerate(steps, 1)
    )
    check_table = _table(["check", "got", "expected", "ok"], [[c["check"], c["got"], c["expected"], "yes" if c["ok"] else "NO"] for c in checks]) if checks else ""
    data = json.dumps({"kpis": summary["kpis"]}).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>telemetry-lakehouse local run</title><style>{STYLE}</style></head>
<body>
<h1>telemetry-lakehouse: local platform run</h1>
<p class="meta">Environment {html.escape(summary['environment'])} &middot; {source} &middot; days {html.escape(', '.join(summary['days']))} &middot; cities {html.escape(', '.join(summary['cities']))} &middot; {len(steps)} steps in {total:.0f} s</p>
{verdict}
<h2>Fuel consumption (telemetry_metrics)</h2>
<p class="meta">Litres per 100 km as a ratio of sums over the KPI's intervals: the KPI catalogue's statements as Athena receives them, run on a local Trino (Athena engine v3's engine) and checked against Spark.</p>
<div class="charts">{charts}</div>
<h2>Row counts through the zones</h2>
{_flows(summary['flows'])}
<h2>KPI tables</h2>
{kpi_tables}
{_warehouse(summary.get('warehouse'))}
{_faults(summary.get('faults'))}
{_alerts(summary.get('alerts'))}
{'<h2>Checks against the ground truth</h2>' + check_table if checks else ''}
<h2>Steps</h2>
<table><thead><tr><th>#</th><th>step</th><th>status</th><th class="num">seconds</th><th>result</th></tr></thead><tbody>{step_rows}</tbody></table>
<script type="application/json" id="report-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def write(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(render(summary), encoding="utf-8")
