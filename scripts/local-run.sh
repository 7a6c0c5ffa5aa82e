#!/usr/bin/env bash
# The platform's data path on this machine, no AWS account: moto_server, the pull handlers, local
# Spark + Iceberg, the Flink mini cluster, the KPI queries and an HTML report (tools/local-run).
# Usage: npm run local -- [--vehicles N] [--days N] [--start yyyy-MM-dd] [--raw DIR] [--out DIR] [--env dev]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
# Only moto's throwaway credentials: nothing may reach AWS from here.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
exec .venv/bin/python tools/local-run/run.py "$@"
