"""A local Trino 476 on 127.0.0.1, standing in for Athena engine v3 (which is Trino-based), for the
tests and the local run: one coordinator that also works, its Iceberg connector on a JDBC catalog
kept in a SQLite file. Spark's tables (a Hadoop catalog in a folder) are registered into it by
location (`register`), so Trino reads the very files the local pipelines wrote.

Installed by scripts/install-trino.sh (scripts/setup.sh). Queries go over Trino's HTTP protocol,
with nothing but the standard library. `execute_with(sql, literals)` runs a statement with
positional `?` parameters as Athena runs it with ExecutionParameters: `EXECUTE IMMEDIATE ... USING`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VERSION = "476"
HOME = ROOT / "tools" / "engines" / "target" / f"trino-server-{VERSION}"
JAVA25_HOME = Path(os.environ.get("JAVA25_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"))
CATALOG = "lake"  # as Spark names its Iceberg catalog (glue-scripts/lakehouse/spark.py)

JVM_CONFIG = """-server
-Xmx1G
-XX:+UseSerialGC
-XX:TieredStopAtLevel=1
-XX:+ExitOnOutOfMemoryError
-Djdk.attach.allowAttachSelf=true
-Dfile.encoding=UTF-8
"""


class TrinoError(RuntimeError):
    """A query Trino failed, with its error name and message (e.g. COLUMN_NOT_FOUND)."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalTrino:
    def __init__(self, work_dir: Path):
        if not (HOME / ".installed").exists():
            raise FileNotFoundError(f"{HOME} is missing: run 'npm run setup' (scripts/install-trino.sh installs Trino {VERSION})")
        if not (JAVA25_HOME / "bin" / "java").exists():
            raise FileNotFoundError(f"Trino {VERSION} needs Java 24 or later; none at {JAVA25_HOME} (set JAVA25_HOME)")
        self.work_dir = work_dir
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        # Trino's statistics of the last statement: physicalInputBytes is what it read from the
        # table files, the counterpart of the bytes Athena scans (and bills).
        self.last_stats: dict[str, Any] = {}
        self._log: Any = None

    def start(self, timeout_s: float = 120) -> "LocalTrino":
        etc = self.work_dir / "etc"
        (etc / "catalog").mkdir(parents=True, exist_ok=True)
        (etc / "node.properties").write_text(f"node.environment=local\nnode.id=local-run\nnode.data-dir={self.work_dir / 'data'}\n")
        (etc / "jvm.config").write_text(JVM_CONFIG)
        (etc / "config.properties").write_text(
            "coordinator=true\nnode-scheduler.include-coordinator=true\n"
            f"http-server.http.port={self.port}\ndiscovery.uri={self.endpoint}\nnode.internal-address=127.0.0.1\n"
            "query.max-memory=512MB\nquery.max-memory-per-node=512MB\n"
        )
        (etc / "log.properties").write_text("io.trino=WARN\n")
        (etc / "catalog" / f"{CATALOG}.properties").write_text(
            "connector.name=iceberg\niceberg.catalog.type=jdbc\n"
            f"iceberg.jdbc-catalog.catalog-name={CATALOG}\n"
            f"iceberg.jdbc-catalog.connection-url=jdbc:sqlite:{self.work_dir / 'catalog.db'}\n"
            f"iceberg.jdbc-catalog.default-warehouse-dir=file://{self.work_dir / 'warehouse'}\n"
            "iceberg.jdbc-catalog.driver-class=org.sqlite.JDBC\n"
            "iceberg.register-table-procedure.enabled=true\n"
            "fs.native-local.enabled=true\nlocal.location=/\n"
        )
        create_catalog_tables(self.work_dir / "catalog.db")
        self._log = open(self.work_dir / "trino.log", "w", encoding="utf-8")
        env = {**os.environ, "JAVA_HOME": str(JAVA25_HOME), "PATH": f"{JAVA25_HOME / 'bin'}:{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen([str(HOME / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={self.work_dir / 'data'}"],
                                        stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Trino exited with {self.process.returncode}; its log: {self.work_dir / 'trino.log'}\n{(self.work_dir / 'trino.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/v1/info", timeout=2) as response:
                    if not json.load(response).get("starting", True):
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            self.stop()
            raise TimeoutError(f"Trino did not start within {timeout_s} s; its log: {self.work_dir / 'trino.log'}")
        # The node announces itself as a worker a few seconds after the server answers: until then a
        # table scan fails with NO_NODES_AVAILABLE.
        while time.monotonic() < deadline:
            _, rows = self.execute("SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'")
            if rows[0][0] >= 1:
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"Trino's node did not become active within {timeout_s} s; its log: {self.work_dir / 'trino.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "LocalTrino":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def execute(self, sql: str, schema: str | None = None) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        """(columns with name and type, rows) of one statement, following Trino's nextUri protocol.
        A freshly started node takes a moment to take on its first catalog's splits
        (NO_NODES_AVAILABLE): that, and only that, is retried for up to 30 s."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return self._execute_once(sql, schema)
            except TrinoError as error:
                if error.name != "NO_NODES_AVAILABLE" or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _execute_once(self, sql: str, schema: str | None) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        headers = {"X-Trino-User": "local", "X-Trino-Catalog": CATALOG, "Content-Type": "text/plain"}
        if schema:
            headers["X-Trino-Schema"] = schema
        request = urllib.request.Request(f"{self.endpoint}/v1/statement", data=sql.encode("utf-8"), headers=headers, method="POST")
        columns: list[dict[str, Any]] = []
        rows: list[list[Any]] = []
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        while True:
            if "error" in answer:
                error = answer["error"]
                raise TrinoError(error.get("errorName", "ERROR"), error.get("message", str(error)))
            columns = answer.get("columns", columns)
            rows.extend(answer.get("data", []))
            if "nextUri" not in answer:
                self.last_stats = answer.get("stats", {})
                return columns, rows
            with urllib.request.urlopen(urllib.request.Request(answer["nextUri"], headers={"X-Trino-User": "local"}), timeout=60) as response:
                answer = json.load(response)

    def execute_with(self, sql: str, literals: list[str], schema: str | None = None) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        """A statement with positional ? parameters bound to literal texts, as Athena binds ExecutionParameters."""
        quoted = "'" + sql.replace("'", "''") + "'"
        using = f" USING {', '.join(literals)}" if literals else ""
        return self.execute(f"EXECUTE IMMEDIATE {quoted}{using}", schema)

    def register(self, schema: str, table: str, location: Path) -> None:
        """Points Trino's catalog at a table Spark wrote (its latest metadata), replacing an earlier
        registration. The location is the one the table's metadata declares (Iceberg refuses any other)."""
        latest = max((location / "metadata").glob("v*.metadata.json"), key=lambda f: int(f.name[1:].split(".")[0]))
        declared = json.loads(latest.read_text())["location"]
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{schema}")
        try:
            self.execute(f"CALL {CATALOG}.system.unregister_table(schema_name => '{schema}', table_name => '{table}')")
        except TrinoError as error:
            if error.name not in ("TABLE_NOT_FOUND", "NOT_FOUND"):
                raise
        self.execute(f"CALL {CATALOG}.system.register_table(schema_name => '{schema}', table_name => '{table}', table_location => '{declared}')")


def create_catalog_tables(database: Path) -> None:
    """The two tables of Iceberg's JDBC catalog (schema V1, as org.apache.iceberg.jdbc.JdbcUtil
    creates them): Trino's JDBC catalog requires them to exist and does not create them."""
    import sqlite3

    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, "
            "table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), "
            "iceberg_type VARCHAR(5), PRIMARY KEY (catalog_name, table_namespace, table_name))"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (catalog_name VARCHAR(255) NOT NULL, namespace VARCHAR(255) NOT NULL, "
            "property_key VARCHAR(255), property_value VARCHAR(1000), PRIMARY KEY (catalog_name, namespace, property_key))"
        )


def clean(work_dir: Path) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
