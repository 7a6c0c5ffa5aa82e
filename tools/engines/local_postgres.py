"""A throwaway PostgreSQL 15 on 127.0.0.1 (Debian's `postgresql` package, installed by
scripts/setup.sh when missing), standing in for Redshift in the warehouse tests and the local run:
a cluster in a temporary directory, on a free port, stopped and removed after.

PostgreSQL refuses to run as root; as root, the cluster is made and run as the `postgres` user
the package creates, in a directory that user owns. Connections use psycopg over TCP on
127.0.0.1 with a password-less trust rule for that address only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    def __init__(self, root: Path, port: int, as_user: str | None):
        self.root, self.port, self.as_user = root, port, as_user
        self.data = root / "data"

    @classmethod
    def start(cls, log: Path | None = None, logical_replication: bool = False) -> "LocalPostgres":
        """logical_replication: wal_level logical, as the registry's parameter group sets it for
        DMS, so a replication slot can stream its changes (tools/stand-ins/dms_cdc.py)."""
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL is not installed ({BIN}/initdb missing): run scripts/setup.sh")
        as_user = "postgres" if os.geteuid() == 0 else None
        # As root the cluster runs as `postgres`, which must reach its directory: a private TMPDIR
        # (the jest run's, mode 700) is closed to it, so the cluster goes to /tmp then.
        parent = tempfile.gettempdir()
        if as_user and not os.stat(parent).st_mode & 0o001:
            parent = "/tmp"
        root = Path(tempfile.mkdtemp(prefix="tlh-postgres-", dir=parent))
        if as_user:
            shutil.chown(root, user=as_user)
        pg = cls(root, _free_port(), as_user)
        pg._run(str(BIN / "initdb"), "-D", str(pg.data), "-U", "warehouse", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        (pg.data / "postgresql.auto.conf").write_text(
            f"listen_addresses = '127.0.0.1'\nport = {pg.port}\nunix_socket_directories = '{root}'\nfsync = off\nsynchronous_commit = off\n"
            # Logical decoding reads the WAL up to what is flushed: a commit is flushed at once.
            + ("wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\nsynchronous_commit = on\n" if logical_replication else "")
        )
        if as_user:
            shutil.chown(pg.data / "postgresql.auto.conf", user=as_user)
        logfile = log or root / "postgres.log"
        pg._run(str(BIN / "pg_ctl"), "-D", str(pg.data), "-l", str(logfile if not as_user else root / "postgres.log"), "-w", "-t", "60", "start")
        return pg

    def _run(self, *command: str) -> None:
        argv = ["runuser", "-u", self.as_user, "--", *command] if self.as_user else list(command)
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="warehouse", dbname=database)

    def create_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.autocommit = True
            conn.execute(f'CREATE DATABASE "{name}"')

    def database_for_test(self, prefix: str, test_name: str) -> str:
        """A fresh database named after a test (a parametrised test's brackets and dashes made
        safe, cut to PostgreSQL's identifier length), created; returns its name."""
        name = f"{prefix}_{test_name[:40].lower()}".replace("[", "_").replace("]", "_").replace("-", "_")
        self.create_database(name)
        return name

    def stop(self) -> None:
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
