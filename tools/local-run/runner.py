"""The local run's engine: the run's context (what the steps share), steps run in order with
their timings, a failure reported with its step and cause, and what a failed run left behind."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# The Glue package and the Flink app, imported by the steps as their entry points import them.
sys.path[:0] = [p for p in (str(ROOT / "glue-scripts"), str(ROOT / "flink-app"), str(ROOT / "tools" / "engines"), str(ROOT / "tools" / "stand-ins"), str(HERE)) if p not in sys.path]

import synthetic  # noqa: E402
import zones  # noqa: E402
from flows import Flows  # noqa: E402

MARKER = ".telemetry-lakehouse-local-run"

# A step: what it does, printed, and the action that does it (returns a summary, or "skipped: why").
Step = tuple[str, Callable[["Context"], "str | None"]]


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
    args: Any  # the parsed command line (run.py)
    out: Path
    names: dict[str, Any] = field(default_factory=dict)
    moto: zones.Moto | None = None
    spark: Any = None
    trino: Any = None  # tools/engines/local_trino.py, the local stand-in for Athena
    postgres: Any = None  # tools/engines/local_postgres.py, the local stand-in for Redshift
    days: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    expected: synthetic.Expected | None = None
    fleet: synthetic.Fleet | None = None
    # counts through the zones, per dataset, and the outcome tallies
    flows: Flows = field(default_factory=Flows)
    kpis: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    committed_tables: list[str] = field(default_factory=list)
    # metric date -> interval outcome -> count, as the latest aggregation that recomputed the date
    # left it: a late batch recomputes an earlier date, whose counts then replace the first ones.
    outcomes_by_date: dict[str, dict[str, int]] = field(default_factory=dict)
    # KPI dates a late change reached beyond the horizon, as the last aggregation reported them
    dates_beyond_horizon: list[str] = field(default_factory=list)
    # the live alerts: the episodes planted on the telemetry stream, and what the function made of them
    expected_alerts: list[dict[str, Any]] = field(default_factory=list)
    alerts: dict[str, Any] | None = None
    # the warehouse load: days, time, rows per table, the load log of each day
    warehouse: dict[str, Any] | None = None
    # the fault-injection run (--faults): the proxy before moto, and what each fault met (faults.py)
    proxy: Any = None
    fault_results: dict[str, Any] = field(default_factory=dict)

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


JAVA_FRAME = re.compile(r"^\s+at [\w$.<>]+\(")


def cause_of(error: BaseException) -> str:
    """The first lines of an error: a Spark or Flink error carries a whole Java stack after them."""
    text = f"{type(error).__name__}: {error}".strip()
    lines = [line for line in text.splitlines() if line.strip() and not JAVA_FRAME.match(line)][:3]
    short = "\n    ".join(lines)
    return short if len(short) < 1500 else short[:1500] + " ..."


class Steps:
    def __init__(self, ctx: Context, plan: list[Step]):
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


def summary(ctx: Context, steps: Steps, failure: StepFailed | None = None) -> dict[str, Any]:
    """summary.json: the run's options, steps, counts, KPIs and checks (report.py renders it)."""
    return {
        "environment": ctx.args.env,
        "mode": "generated" if ctx.generated else "supplied raw files",
        "size": {"vehicles": ctx.args.vehicles, "days": ctx.args.days} if ctx.generated else None,
        "source": None if ctx.generated else str(Path(ctx.args.raw).resolve()),
        "days": ctx.days,
        "cities": ctx.cities,
        "steps": [r.__dict__ for r in steps.records],
        "flows": ctx.flows.as_json(),
        "kpis": ctx.kpis,
        "checks": ctx.checks,
        "dates_beyond_horizon": ctx.dates_beyond_horizon,
        "alerts": ctx.alerts,
        "warehouse": ctx.warehouse,
        "faults": ctx.fault_results.get("table"),
        "failure": None if failure is None else {"step": failure.step, "cause": failure.cause},
    }


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
