#!/usr/bin/env bash
# Runs every test of the project: installs what is missing, type-checks, runs the CDK suite
# (assertions, snapshots, cdk-nag, cfn-lint over every template of every environment) and the
# Python suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Headless Chromium for the report test (Debian's package), installed when missing.
if ! command -v chromium >/dev/null 2>&1; then
  . scripts/apt-install.sh
  apt_install chromium "the report test"
fi

export CDK_DISABLE_VERSION_CHECK=1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE

echo "test: type-check (tsc)"
npx --no-install tsc --noEmit -p tsconfig.json
echo "test: CDK and TypeScript suite (jest)"
npx --no-install jest --ci "$@"
echo "test: Python suite (pytest)"
# The slowest tests are listed at the end, so that a CI run says where its time went.
.venv/bin/python -m pytest -q -p no:cacheprovider --durations=20 glue-scripts/tests flink-app/tests warehouse/tests registry/tests tools/local-run/tests bench/tests
