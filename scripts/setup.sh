#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, and nothing twice:
#   - npm packages exactly as package-lock.json pins them (npm ci), when the lock changed;
#   - a project-local Python virtual environment (.venv) from requirements-dev.txt, when it changed;
#   - the Flink connectors jar (flink-app/target/connectors.jar) with Maven, when pom.xml changed;
#   - the Iceberg runtime for local Spark, and Trino 476 (Athena's engine) for the KPI SQL (scripts/install-trino.sh).
#   - the Apache Kafka broker (KRaft) for the Kafka way in's tests (tools/engines/kafka/pom.xml);
#   - PostgreSQL 15, the warehouse SQL's local engine, when missing.
# Usage: scripts/setup.sh [--node-only]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.setup-lock-stamp; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.setup-lock-stamp
fi
[ "${1:-}" = "--node-only" ] && exit 0

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "setup: warning: $("$PYTHON" --version) found; Glue 5.1 and Managed Flink run Python 3.11" >&2
fi
if [ ! -x .venv/bin/python ] || ! cmp -s requirements-dev.txt .venv/.setup-requirements-stamp; then
  echo "setup: creating the Python virtual environment (.venv) from requirements-dev.txt"
  rm -rf .venv
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/.setup-requirements-stamp
fi

# The Flink application zip and its shaded connectors jar, from Maven Central (flink-app/pom.xml).
# Synth rebuilds it whenever one of its inputs changes (lib/constructs/flink-application-code.ts).
if [ ! -f flink-app/target/application.zip ]; then
  echo "setup: building the Flink application with Maven (flink-app/pom.xml)"
  (cd flink-app && mvn -q -B package)
fi

# The Iceberg runtime and S3FileIO (the AWS bundle) for local Spark, at Glue 5.1 versions (glue-scripts/pom.xml).
if [ ! -f glue-scripts/target/jars/iceberg-spark-runtime-3.5_2.12-1.10.0.jar ] || [ ! -f glue-scripts/target/jars/iceberg-aws-bundle-1.10.0.jar ]; then
  echo "setup: fetching the Iceberg Spark runtime with Maven (glue-scripts/pom.xml)"
  (cd glue-scripts && mvn -q -B dependency:copy-dependencies)
fi

# Apache Kafka 4.1 (KRaft), the local stand-in for MSK in the Kafka way in's tests (tools/engines/kafka/pom.xml).
if [ ! -f tools/engines/target/kafka-jars/kafka_2.13-4.1.1.jar ]; then
  echo "setup: fetching the Kafka broker with Maven (tools/engines/kafka/pom.xml)"
  (cd tools/engines/kafka && mvn -q -B dependency:copy-dependencies)
fi

# Trino 476, the local stand-in for Athena engine v3 (tests and the local run), with Java 25.
bash scripts/install-trino.sh

# PostgreSQL 15 (Debian's package), the local stand-in for Redshift in the warehouse tests and the
# local run; tools/engines/local_postgres.py starts a throwaway cluster on 127.0.0.1 from it.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  . scripts/apt-install.sh
  apt_install postgresql "the warehouse's local engine"
fi
