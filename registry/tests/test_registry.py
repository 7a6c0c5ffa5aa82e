"""The device registry's migrations, constraints and operations on a real PostgreSQL (127.0.0.1, a
throwaway cluster): every constraint with a row that passes and one that fails, every operation
twice (idempotent), and the device versions each change appends, worked out by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "engines"))
import registry_sql  # noqa: E402
from local_postgres import LocalPostgres  # noqa: E402

T0 = "2026-11-01 08:00:00+00"


@pytest.fixture(scope="module")
def postgres():
    pg = LocalPostgres.start()
    yield pg
    pg.stop()


@pytest.fixture()
def conn(postgres, request):
    name = postgres.database_for_test("r", request.node.name)
    with postgres.connect(name) as c:
        c.autocommit = True
        registry_sql.migrate(c)
        yield c


def call(conn, sql: str, *args):
    return conn.execute(sql, args).fetchone()[0]


def refused(conn, sql: str, *args, error=psycopg.errors.CheckViolation, match: str | None = None) -> str:
    with pytest.raises(error, match=match) as raised:
        with conn.transaction():
            conn.execute(sql, args)
    return str(raised.value)


def versions(conn, sensor: str) -> list[tuple]:
    return [tuple(r) for r in conn.execute(
        "SELECT version, vehicle_id, sensor_type, calibration_scale, calibration_offset, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
        "FROM registry.device_versions WHERE sensor_id = %s ORDER BY version", (sensor,)).fetchall()]


def test_migrations_apply_once_in_order(postgres):
    postgres.create_database("registry_once")
    with postgres.connect("registry_once") as c:
        c.autocommit = True
        assert registry_sql.migrate(c) == ["V001__registry", "V002__operations", "V003__changes_strictly_in_time_order", "V004__dms_login", "V005__fleet_login"]
        assert registry_sql.migrate(c) == []


def test_vehicles_and_sensors_refuse_malformed_ids(conn):
    assert call(conn, "SELECT registry.add_vehicle(%s, %s)", "VAN-001", T0) == "added"
    assert call(conn, "SELECT registry.add_vehicle(%s, %s)", "VAN-001", T0) == "unchanged"
    refused(conn, "SELECT registry.add_vehicle(%s, %s)", "van 001; drop", T0, match="vehicle_id_format")
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "VAN-001-temp", "temp", "VAN-001", T0) == "mounted"
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "", "temp", "VAN-001", T0, match="sensor_id_format")
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "VAN-001-x", "Temp Sensor", "VAN-001", T0, match="sensor_type_format")


def test_a_sensor_is_never_on_two_vehicles_at_once(conn):
    for vehicle in ("V1", "V2"):
        call(conn, "SELECT registry.add_vehicle(%s, %s)", vehicle, T0)
    call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0)
    # written directly, an overlapping mounting is refused by the exclusion constraint ...
    refused(conn, "INSERT INTO registry.mountings VALUES ('S1', 'V2', tstzrange('2026-11-05 00:00+00', NULL))",
            error=psycopg.errors.ExclusionViolation, match="sensor_on_one_vehicle_at_a_time")
    # ... and one that starts when the other ends passes
    conn.execute("UPDATE registry.mountings SET mounted = tstzrange(lower(mounted), '2026-11-05 00:00+00') WHERE sensor_id = 'S1'")
    conn.execute("INSERT INTO registry.mountings VALUES ('S1', 'V2', tstzrange('2026-11-05 00:00+00', NULL))")
    refused(conn, "INSERT INTO registry.mountings VALUES ('S1', 'V1', 'empty')", match="mounting_has_a_start")


def test_a_move_ends_the_old_mounting_and_appends_one_version(conn):
    for vehicle in ("V1", "V2"):
        call(conn, "SELECT registry.add_vehicle(%s, %s)", vehicle, T0)
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s, %s, %s)", "S1", "temp", "V1", T0, 1.02, -1.5) == "mounted"
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s, %s, %s)", "S1", "temp", "V1", T0, 1.02, -1.5) == "unchanged"
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V2", "2026-11-03 09:00:00+00") == "moved"
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V2", "2026-11-03 09:00:00+00") == "unchanged"
    assert versions(conn, "S1") == [
        (1, "V1", "temp", 1.02, -1.5, "2026-11-01 08:00:00"),
        (2, "V2", "temp", 1.02, -1.5, "2026-11-03 09:00:00"),  # the calibration goes with the sensor
    ]
    assert [tuple(r) for r in conn.execute("SELECT vehicle_id, mounted::text FROM registry.mountings ORDER BY lower(mounted)").fetchall()] == [
        ("V1", '["2026-11-01 08:00:00+00","2026-11-03 09:00:00+00")'), ("V2", '["2026-11-03 09:00:00+00",)')]
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "fuel", "V1", "2026-11-04 00:00:00+00", match="is a temp sensor, not fuel")
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", "2026-11-02 00:00:00+00", match="a move must come after")
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V9", "2026-11-04 00:00:00+00",
            error=psycopg.errors.ForeignKeyViolation, match="vehicle V9 is not registered")
    refused(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s, %s, %s)", "S1", "temp", "V1", "2026-11-04 00:00:00+00", 2.0, 0.0,
            match="change its calibration with calibrate")


def test_a_calibration_change_is_exactly_one_new_version_and_a_replay_changes_nothing(conn):
    call(conn, "SELECT registry.add_vehicle(%s, %s)", "V1", T0)
    call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0)
    assert call(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.02, -1.5, "2026-11-02 12:00:30+00") == "calibrated"
    assert call(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.02, -1.5, "2026-11-02 12:00:30+00") == "unchanged"
    assert versions(conn, "S1") == [(1, "V1", "temp", 1.0, 0.0, "2026-11-01 08:00:00"), (2, "V1", "temp", 1.02, -1.5, "2026-11-02 12:00:30")]
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.05, -1.5, "2026-11-02 12:00:30+00",
            error=psycopg.errors.UniqueViolation, match="exists with other values")
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S9", 1, 1.0, 0.0, T0, error=psycopg.errors.ForeignKeyViolation, match="mount-sensor first")
    assert len(versions(conn, "S1")) == 2  # the refused calls appended nothing


def test_calibration_constraints_refuse_a_non_positive_scale_and_a_version_that_goes_backwards_or_skips(conn):
    call(conn, "SELECT registry.add_vehicle(%s, %s)", "V1", T0)
    call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0)
    for scale in (0.0, -1.0, 0.0000001):
        refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, scale, 0.0, "2026-11-02 00:00+00", match="calibration_scale_positive")
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.0, float("inf"), "2026-11-02 00:00+00", match="calibration_offset_finite")
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 3, 1.1, 0.0, "2026-11-02 00:00+00", match="does not follow its latest")
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 0, 1.1, 0.0, "2026-11-02 00:00+00", match=r"version 0 of sensor S1 does not follow its latest \(1\)")
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.1, 0.0, "2026-10-30 00:00+00", match="before version 1")
    assert call(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 0.000001, 0.0, "2026-11-02 00:00+00") == "calibrated"  # the least scale the contract allows
    # a version written directly that goes backwards is refused by the trigger, whoever writes it
    refused(conn, "INSERT INTO registry.calibrations VALUES ('S1', 2, 1.3, 0.0, '2026-11-03 00:00+00')", match="does not follow its latest")


def test_history_is_appended_never_rewritten(conn):
    call(conn, "SELECT registry.add_vehicle(%s, %s)", "V1", T0)
    call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0)
    for statement in ("UPDATE registry.calibrations SET scale = 2", "DELETE FROM registry.calibrations",
                      "UPDATE registry.device_versions SET calibration_scale = 2", "DELETE FROM registry.device_versions"):
        refused(conn, statement, match="history_is_append_only")
    # device versions written directly must follow by one and in time order
    refused(conn, "INSERT INTO registry.device_versions VALUES ('S1', 3, 'V1', 'temp', 0, 1, '2026-11-02 00:00+00')", match="does not follow its latest")
    refused(conn, "INSERT INTO registry.device_versions VALUES ('S1', 2, 'V1', 'temp', 0, 1, '2026-10-01 00:00+00')", match="not back-dated")
    refused(conn, f"INSERT INTO registry.device_versions VALUES ('S1', 2, 'V1', 'temp', 0, 1, '{T0}')", match="one change an instant")
    conn.execute("INSERT INTO registry.device_versions VALUES ('S1', 2, 'V1', 'temp', 0, 1, '2026-11-02 00:00+00')")


def test_a_calibration_at_the_instant_of_the_mounting_is_refused(conn):
    """Two versions at one instant would leave which one a reading gets to the stream's storage order."""
    call(conn, "SELECT registry.add_vehicle(%s, %s)", "V1", T0)
    call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0)
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.1, 0.0, T0, match=r"the instant of its latest change \(version 1\)")
    assert len(versions(conn, "S1")) == 1 and call(conn, "SELECT count(*) FROM registry.calibrations") == 1  # nothing of the call stays


def test_the_fleet_login_changes_the_registry_through_the_operations_alone(conn):
    """V005: registry_fleet calls the three operations (which run with their owner's rights) and
    reads the registry; it cannot write a table itself, and no other role (DMS's) may call them."""
    conn.execute("SET ROLE registry_fleet")
    assert call(conn, "SELECT registry.add_vehicle(%s, %s)", "V1", T0) == "added"
    assert call(conn, "SELECT registry.mount_sensor(%s, %s, %s, %s)", "S1", "temp", "V1", T0) == "mounted"
    assert call(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 2, 1.1, 0.0, "2026-11-02 00:00+00") == "calibrated"
    assert [v[0] for v in versions(conn, "S1")] == [1, 2]  # it reads
    # a refusal still comes from the function's checks, as for the master
    refused(conn, "SELECT registry.calibrate(%s, %s, %s, %s, %s)", "S1", 3, 0.0, 0.0, "2026-11-03 00:00+00", match="calibration_scale_positive")
    for statement in ("INSERT INTO registry.vehicles VALUES ('V9', now())", "UPDATE registry.sensors SET sensor_type = 'fuel'",
                      "SELECT registry.append_device_version('S1', now())"):
        refused(conn, statement, error=psycopg.errors.InsufficientPrivilege)
    conn.execute("RESET ROLE")
    conn.execute("SET ROLE registry_dms")
    refused(conn, "SELECT registry.add_vehicle(%s, %s)", "V2", T0, error=psycopg.errors.InsufficientPrivilege)
    conn.execute("RESET ROLE")
