#!/usr/bin/env bash
# Runs every benchmark (each prints its figures and one JSON line) and writes bench/RESULTS.md.
# Not part of the tests. Run it on an otherwise idle machine: the figures are timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The SDK warns on Node 20 at every import; the figures matter here, not the warning.
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
results=$(mktemp)
run() { "$@" 2>/dev/null | tee -a "$results" | grep -v '^{'; }
run npx --no-install ts-node --transpile-only bench/lambda-bundle.ts weather-pull 21
run npx --no-install ts-node --transpile-only bench/weather-pull.ts 48 5
run npx --no-install ts-node --transpile-only bench/sensor-pull.ts 10000 5
run npx --no-install ts-node --transpile-only bench/telemetry-alerts.ts 100 5
# Two sizes: a query's fixed costs (planning, deployment) weigh most at the smaller one, which
# flatters the heavier job (docs/decisions.md 167).
run .venv/bin/python bench/flink_sql.py 300000 5
run .venv/bin/python bench/flink_sql.py 1500000 3
run .venv/bin/python bench/processing.py 1008000,5040000,20160000
run .venv/bin/python bench/small_jobs.py 3
run .venv/bin/python bench/warehouse_load.py 1008000,5040000
# Through a file of its own: a report that stops (a benchmark's results missing) leaves the last
# bench/RESULTS.md as it was, where a redirect would have emptied it first.
report=$(mktemp)
.venv/bin/python bench/report.py "$results" > "$report"
chmod 644 "$report"  # mktemp makes it private to its owner
mv "$report" bench/RESULTS.md
rm -f "$results"
echo "bench: wrote bench/RESULTS.md"
