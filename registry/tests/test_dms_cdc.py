"""The local run's stand-in for DMS's replication of registry.device_versions to Kinesis
(tools/stand-ins/dms_cdc.py) on a real PostgreSQL with logical replication: the full load and the
changes after it, as DMS's Kinesis records, checked field by field against rows written by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "engines"))
sys.path.insert(0, str(ROOT / "tools" / "stand-ins"))
import dms_cdc  # noqa: E402
import registry_sql  # noqa: E402
from local_postgres import LocalPostgres  # noqa: E402


@pytest.fixture(scope="module")
def postgres():
    pg = LocalPostgres.start(logical_replication=True)
    yield pg
    pg.stop()


def registry_with_one_sensor(postgres, database: str, scale: float = 1.0, offset: float = 0.0):
    """A new database with the migrations and sensor S1 on vehicle V1 (its version 1), open, autocommitting."""
    postgres.create_database(database)
    conn = postgres.connect(database)
    conn.autocommit = True
    registry_sql.migrate(conn)
    conn.execute("SELECT registry.add_vehicle('V1', '2026-11-01 08:00+00')")
    conn.execute("SELECT registry.mount_sensor('S1', 'temp', 'V1', '2026-11-01 08:00+00', %s, %s)", (scale, offset))
    return conn


def data_and_operation(records: list[dict]) -> list[tuple]:
    return [(r["metadata"]["operation"], r["metadata"]["record-type"], r["metadata"]["schema-name"], r["metadata"]["table-name"], r["data"]) for r in records]


def test_full_load_then_each_change_once_in_dms_format(postgres):
    with registry_with_one_sensor(postgres, "cdc", scale=1.5, offset=-2) as conn:
        conn.autocommit = False
        replication = dms_cdc.TableToKinesis(conn, "registry.device_versions")
        replication.create()
        load = replication.full_load()
        conn.autocommit = True
        conn.execute("SELECT registry.calibrate('S1', 2, 1.02, -1.5, '2026-11-02 12:00:30.25+00')")
        conn.execute("SELECT registry.calibrate('S1', 2, 1.02, -1.5, '2026-11-02 12:00:30.25+00')")  # unchanged: no row
        conn.execute("SELECT registry.add_vehicle('V2', '2026-11-03 00:00+00')")                     # another table: left out
        conn.autocommit = False
        changes = replication.changes()
        assert replication.changes() == []  # consumed: each change is streamed once
        replication.drop()
    v1 = {"sensor_id": "S1", "version": 1, "vehicle_id": "V1", "sensor_type": "temp", "calibration_offset": -2.0, "calibration_scale": 1.5,
          "updated_at": "2026-11-01T08:00:00.000000Z"}
    v2 = {**v1, "version": 2, "calibration_offset": -1.5, "calibration_scale": 1.02, "updated_at": "2026-11-02T12:00:30.250000Z"}
    assert data_and_operation(load) == [("load", "data", "registry", "device_versions", v1)]
    assert data_and_operation(changes) == [("insert", "data", "registry", "device_versions", v2)]
    assert set(changes[0]["metadata"]) == {"timestamp", "record-type", "operation", "partition-key-type", "schema-name", "table-name"}


def scram_verifier_from_the_handler(password: str) -> str:
    """The verifier the migrations' custom resource sets (lambda/shared/scram.ts), made by that code."""
    script = f"console.log(require({str(ROOT / 'lambda' / 'shared' / 'scram.ts')!r}).scramSha256Verifier(process.argv[1]))"
    result = subprocess.run([str(ROOT / "node_modules" / ".bin" / "ts-node"), "--transpile-only", "-e", script, password],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    return result.stdout.strip()


def test_dms_signs_in_with_its_password_and_reads_the_streamed_table_alone(postgres):
    """V004's login, its password set as the handler sets it (a SCRAM verifier): PostgreSQL itself
    checks the password (a scram-sha-256 rule for that user, where the tests trust everyone else),
    and the login may read registry.device_versions and open a replication slot, nothing more."""
    with registry_with_one_sensor(postgres, "dms_login") as conn:
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="never a password"):
            conn.execute("SELECT public.set_login_password('registry_dms', 'Xq3vP9zL2mW8kR4tY7uB1nC6')")
        conn.execute("SELECT public.set_login_password('registry_dms', %s)", (scram_verifier_from_the_handler("Xq3vP9zL2mW8kR4tY7uB1nC6"),))
        hba = postgres.data / "pg_hba.conf"
        hba.write_text("host all registry_dms 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        conn.execute("SELECT pg_reload_conf()")
    dms = lambda password: psycopg.connect(host="127.0.0.1", port=postgres.port, user="registry_dms", password=password, dbname="dms_login")  # noqa: E731
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        dms("not-the-password").close()
    with dms("Xq3vP9zL2mW8kR4tY7uB1nC6") as conn:
        assert conn.execute("SELECT sensor_id, version FROM registry.device_versions").fetchall() == [("S1", 1)]
        conn.execute("SELECT pg_create_logical_replication_slot('dms_login_slot', 'test_decoding')")
        conn.execute("CREATE TABLE dms.awsdms_heartbeat (hearbeat_id SERIAL PRIMARY KEY)")  # its heartbeat's schema
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM registry.vehicles")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT registry.add_vehicle('V2', '2026-11-02 08:00+00')")
        conn.rollback()
        conn.execute("SELECT pg_drop_replication_slot('dms_login_slot')")
        conn.commit()
