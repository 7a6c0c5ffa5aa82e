#!/usr/bin/env bash
# Runs the benchmarks; each prints its figures (a human line and a JSON line). Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The SDK warns on Node 20 at every import; the figures matter here, not the warning.
export NODE_OPTIONS="${NODE_OPTIONS:-} --no-warnings"
npx --no-install ts-node --transpile-only bench/lambda-bundle.ts weather-pull 21
npx --no-install ts-node --transpile-only bench/weather-pull.ts 48 5
npx --no-install ts-node --transpile-only bench/sensor-pull.ts 10000 5
.venv/bin/python bench/flink_sql.py 300000 5 2>/dev/null
.venv/bin/python bench/processing.py 1008000,5040000 2>/dev/null | grep -v "^{"
