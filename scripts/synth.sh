#!/usr/bin/env bash
# Synthesizes every stack of the given environments (default: dev) into cdk.out/<env>/,
# offline: no AWS account, no credentials, no network call from the CDK CLI.
# Usage: scripts/synth.sh [dev|staging|prod ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --node-only

export CDK_DISABLE_VERSION_CHECK=1
# Credentials in the environment would make the CLI call STS; synth needs none.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE

envs=("$@")
[ ${#envs[@]} -gt 0 ] || envs=(dev)
for env in "${envs[@]}"; do
  start=$(date +%s%N)
  npx --no-install cdk synth --quiet -c "env=$env" -o "cdk.out/$env"
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "synth: $env: $(ls "cdk.out/$env"/*.template.json | wc -l) stacks in ${elapsed_ms} ms -> cdk.out/$env"
done
