"""bench/report.py: a full run's results replace the README's benchmark block and nothing else; a
partial run's (one benchmark run alone) write nothing, since the block would lose every other row
(docs/decisions.md 168). The fixture is the JSON lines of the `npm run bench` of 2026-12-05 16:38
UTC; its warehouse line is rebuilt from the figures that run printed (bench.sh deletes its results
file)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]
# Loaded under a name of its own: the local run has a `report` module too (tools/local-run), which
# its steps import by that name in the same pytest process.
_spec = importlib.util.spec_from_file_location("bench_report", BENCH / "report.py")
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

FULL_RUN = BENCH / "tests" / "results-2026-12-05.jsonl"
OUTSIDE = "# A README\n\nText before the block.\n\n{block}\n\nText after the block.\n"
OLD_BLOCK = f"{report.START}\nLatest run: an old one.\n\n| benchmark | figure | target | verdict |\n|---|---|---|---|\n| an old row | 1 | | |\n{report.END}"


@pytest.fixture
def readme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "README.md"
    path.write_text(OUTSIDE.format(block=OLD_BLOCK), encoding="utf-8")
    monkeypatch.setattr(report, "README", path)
    return path


def test_a_full_run_replaces_the_block_with_a_row_for_every_benchmark(readme: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report.main(str(FULL_RUN))
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split(report.START, 1)
    block, after = rest.split(report.END, 1)
    assert before == "# A README\n\nText before the block.\n\n"
    assert after == "\n\nText after the block.\n"
    assert "an old row" not in block
    for row in (
        "| weather-pull bundle (shipped vs naive) |",
        "| sensor-pull end to end into moto |",
        "| live alerts, 30,000 readings",
        "| Flink SQL enrichment job vs pass-through, 300,000 readings",
        "| Flink SQL enrichment job vs pass-through, 1,500,000 readings",
        "| daily path Spark vs DuckDB reference at 5,040,000 rows",
        "| daily path Spark vs DuckDB reference at 20,160,000 rows",
        "| CDC first load",
        "| warehouse daily load, 5,040,000 intervals",
    ):
        assert row in block, row
    # RESULTS.md (the report's output) holds the same table.
    assert block.split("\n\n", 1)[1].strip() in capsys.readouterr().out


@pytest.mark.parametrize("kept", [["flink-sql"], ["lambda-bundle", "weather-pull", "sensor-pull", "telemetry-alerts", "flink-sql", "processing", "small-jobs"]])
def test_a_partial_run_writes_neither_the_block_nor_the_report(kept: list[str], readme: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [line for line in FULL_RUN.read_text(encoding="utf-8").splitlines() if line.startswith("{") and json.loads(line)["bench"] in kept]
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        report.main(str(partial))
    missing = [name for name in report.EXPECTED if name not in kept]
    assert f"lacks the results of {', '.join(missing)}" in str(stopped.value)
    assert readme.read_text(encoding="utf-8") == OUTSIDE.format(block=OLD_BLOCK)
    assert capsys.readouterr().out == ""


def test_the_report_expects_every_benchmark_that_bench_sh_runs_and_no_other() -> None:
    # Each benchmark names itself after its script ("bench": "small-jobs" for small_jobs.py): a
    # benchmark added to bench.sh and not to EXPECTED would be left out of the check.
    script = (BENCH.parent / "scripts" / "bench.sh").read_text(encoding="utf-8")
    run = {Path(word).stem.replace("_", "-") for line in script.splitlines() if line.startswith("run ") for word in line.split() if word.startswith("bench/")}
    assert run == set(report.EXPECTED)
