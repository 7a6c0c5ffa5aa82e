#!/usr/bin/env bash
# Installs the local Trino that stands in for Athena engine v3 (Trino-based) in the tests and the
# local run: Trino 476 (Java 25: Temurin at /usr/lib/jvm/temurin-25-jdk-amd64, or JAVA25_HOME),
# unpacked with only its Iceberg connector, plus the SQLite JDBC driver for its Iceberg catalog.
# Idempotent; scripts/setup.sh runs it. Usage: scripts/install-trino.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=476
SQLITE_JDBC=3.51.1.0
TARGET=tools/engines/target
HOME_DIR="$TARGET/trino-server-$VERSION"
JAVA25_HOME=${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

if [ ! -x "$JAVA25_HOME/bin/java" ]; then
  echo "install-trino: Trino $VERSION needs Java 24 or later; none at $JAVA25_HOME (set JAVA25_HOME)" >&2
  exit 1
fi
if [ -f "$HOME_DIR/.installed" ]; then exit 0; fi

echo "install-trino: fetching Trino $VERSION and the SQLite JDBC driver with Maven"
# -Dtransitive=false: the server tarball's plugin poms are not all resolvable, and nothing else is needed.
mvn -q -B -Dstyle.color=never dependency:get -Dtransitive=false -Dartifact="io.trino:trino-server:$VERSION:tar.gz"
mvn -q -B -Dstyle.color=never dependency:get -Dtransitive=false -Dartifact="org.xerial:sqlite-jdbc:$SQLITE_JDBC"
REPO=$(mvn -q -B -Dstyle.color=never help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null | sed "s/\x1b\[[0-9;]*m//g" || true)
REPO=${REPO:-$HOME/.m2/repository}

rm -rf "$HOME_DIR" && mkdir -p "$TARGET"
# The server and its Iceberg connector only: the other plugins are most of the 800 MB. The archive
# hard-links jars shared between plugins, so it is unpacked whole and the others removed after.
tar -xzf "$REPO/io/trino/trino-server/$VERSION/trino-server-$VERSION.tar.gz" -C "$TARGET"
find "$HOME_DIR/plugin" -mindepth 1 -maxdepth 1 -type d ! -name iceberg -exec rm -rf {} +
cp "$REPO/org/xerial/sqlite-jdbc/$SQLITE_JDBC/sqlite-jdbc-$SQLITE_JDBC.jar" "$HOME_DIR/plugin/iceberg/"
touch "$HOME_DIR/.installed"
echo "install-trino: $HOME_DIR ($(du -sh "$HOME_DIR" | cut -f1))"
