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
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from runner import MARKER, ROOT, Context, StepFailed, Steps, cause_of, left_behind, prepare_out, quiet_engines, summary  # noqa: E402 (runner sets the path)
from checks import check_supplied  # noqa: E402
from plan import build_plan  # noqa: E402
from steps import platform_names, write_report  # noqa: E402


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
    parser.add_argument("--faults", action="store_true",
                        help="inject faults (S3 5xx and Kinesis throttling before moto, the weather API down an hour, DMS files twice and out of order, "
                             "Glue days rerun), then check everything against the ground truth and print a table per fault (needs --days 2 or more)")
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
        if args.faults and (args.raw is not None or args.only or args.days < 2):
            raise StepFailed("check the options", "--faults runs on a generated fleet of 2 days or more, the whole path (not with --raw or --only)")
        if args.only and args.backfill:
            raise StepFailed("check the options", "--backfill recomputes the KPI, which --only streaming does not run")
        if args.raw is not None:
            ctx.days = check_supplied(Path(args.raw), streaming_only=args.only == "streaming")
        else:
            ctx.days = [(date.fromisoformat(args.start) + timedelta(days=d)).isoformat() for d in range(args.days)]
        prepare_out(out)
        quiet_engines(ctx.path("logs", "engines.log"))
        try:
            ctx.names = platform_names(args.env)  # the plan's pull steps come from the registry it lists
        except Exception as error:
            raise StepFailed(f"read the {args.env} configuration", cause_of(error)) from error
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
        if ctx.trino is not None:
            ctx.trino.stop()
        if ctx.postgres is not None:
            ctx.postgres.stop()
        if ctx.spark is not None:
            ctx.spark.stop()
        if ctx.proxy is not None:
            ctx.proxy.stop()
        if ctx.moto is not None:
            ctx.moto.stop()


if __name__ == "__main__":
    sys.exit(main())
