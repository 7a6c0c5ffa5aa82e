"""The Glue transformations on local Spark, each on a small fixture with its expected rows written
out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql import functions as F

from lakehouse import cdc, crm, legacy_sql, metrics, quality, telematics, weather
from lakehouse.contracts import contract_of, load_contracts

CONTRACTS = load_contracts()
T = lambda text: datetime.fromisoformat(text)  # noqa: E731  naive UTC (session time zone UTC)


def rows(df, *columns, order=None):
    selected = df.select(*columns).orderBy(*(order or columns))
    return [tuple(r) for r in selected.collect()]


# --- Contract checks: valid rows and quarantined rows with every reason ----------------------------


def test_split_by_reasons_keeps_every_broken_rule_and_builds_no_array_for_valid_rows(spark):
    df = spark.createDataFrame([("a", 5, "x"), ("b", -1, "x"), ("c", -1, None), ("d", None, "x")], "id string, n int, tag string")
    reasons = [
        F.when(F.col("n").isNull(), F.lit("n: required")),
        F.when(F.col("n") < 0, F.concat(F.lit("n: "), F.col("n").cast("string"), F.lit(" is below the minimum 0"))),
        F.when(F.col("tag").isNull(), F.lit("tag: required")),
    ]
    valid, quarantined = quality.split_by_reasons(df, reasons)
    assert valid.columns == ["id", "n", "tag"]
    assert rows(valid, "id") == [("a",)]
    assert rows(quarantined, "id", quality.REASONS) == [
        ("b", ["n: -1 is below the minimum 0"]),
        ("c", ["n: -1 is below the minimum 0", "tag: required"]),
        ("d", ["n: required"]),
    ]
    # The valid side tests the rules in generated code: no array of reasons (a lambda) in its plan.
    assert "lambdafunction" not in valid._jdf.queryExecution().optimizedPlan().toString()
    # No rules: every row is valid, and the quarantine is empty but shaped as any other.
    valid, quarantined = quality.split_by_reasons(df, [])
    assert (valid.count(), quarantined.count()) == (4, 0)
    assert quarantined.schema[quality.REASONS].dataType.simpleString() == "array<string>"


# --- CRM: CDC to current state -------------------------------------------------------------------


def customers_raw(spark, changes):
    schema = "customer_id string, customer_name string, segment string, country_code string, created_at timestamp, updated_at timestamp, Op string, commit_ts timestamp"
    return spark.createDataFrame(changes, schema)


def test_crm_insert_update_delete_and_quarantine(spark):
    c = T("2026-11-01 00:00:00")
    changes = [
        ("c1", "Acme", "enterprise", "ES", c, c, "I", T("2026-11-20 10:00:00")),
        ("c1", "Acme Corp", "enterprise", "ES", c, T("2026-11-20 11:00:00"), "U", T("2026-11-20 11:00:00")),
        ("c2", "Beta", "smb_typo", "ES", c, c, "I", T("2026-11-20 10:00:00")),  # segment not allowed: quarantined
        ("c3", "Gamma", "public_sector", "FR", c, c, None, T("2026-11-20 09:00:00")),  # full load, empty Op: an insert
        ("c4", "Delta", "mid_market", "PT", c, c, "I", T("2026-11-20 09:00:00")),
        ("c4", None, None, None, None, None, "D", T("2026-11-20 12:00:00")),  # a delete needs only its key
        ("c5", None, "enterprise", "ES", c, c, "I", T("2026-11-20 09:00:00")),  # name missing: quarantined
    ]
    changes, quarantined = crm.prepare_changes(customers_raw(spark, changes), contract_of(CONTRACTS, "customers"))
    latest = cdc.latest_change_per_key(changes, ["customer_id"])
    assert rows(latest, "customer_id", "customer_name", "Op") == [("c1", "Acme Corp", "U"), ("c3", "Gamma", "I"), ("c4", None, "D")]
    assert rows(quarantined, "customer_id", "quarantine_reasons") == [
        ("c2", ["segment: 'smb_typo' is not allowed"]),
        ("c5", ["customer_name: required"]),
    ]


# --- Legacy SQL: names, timestamps, garbage ------------------------------------------------------


def test_legacy_timestamps_in_every_format_and_garbage_quarantined(spark):
    schema = "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp"
    commit = T("2026-11-21 08:00:00")
    raw = spark.createDataFrame(
        [
            ("s1", "c1", "v1", "Madrid", "Bilbao", "2026-11-21 06:00:00", "2026-11-21T11:30:00+01:00", 1000.0, "delivered", "I", commit),
            ("s2", "c1", "v2", "Madrid", "Bilbao", "21/11/2026 07:15", "1795258800", 500.0, "delivered", "I", commit),
            ("s3", "c2", "v3", "Valencia", None, "20261121083000", None, 0.0, "in_transit", "I", commit),
            ("s4", "c2", "v4", "Valencia", None, "2026-11-21T09:00:00.250+00:00", "", 10.0, "in_transit", "I", commit),
            ("s5", "c3", "v5", "Seville", None, "yesterday at noon", None, 10.0, "planned", "I", commit),
            ("s6", "c3", "v6", "Seville", None, "2026-11-21 09:00:00", "31/02/2026 10:00", 10.0, "planned", "I", commit),
        ],
        schema,
    )
    changes, quarantined = legacy_sql.prepare_changes(raw, contract_of(CONTRACTS, "shipments"))
    latest = cdc.latest_change_per_key(changes, ["shipment_id"])
    assert rows(latest, "shipment_id", "vehicle_id", "origin_city", "departed_at", "arrived_at") == [
        ("s1", "v1", "Madrid", T("2026-11-21 06:00:00"), T("2026-11-21 10:30:00")),
        ("s2", "v2", "Madrid", T("2026-11-21 07:15:00"), T("2026-11-21 11:00:00")),
        ("s3", "v3", "Valencia", T("2026-11-21 08:30:00"), None),
        ("s4", "v4", "Valencia", T("2026-11-21 09:00:00.250000"), None),
    ]
    fits_none = "none of the contract's raw.legacyTimestamps formats fits (day_first)"
    assert rows(quarantined, "shipment_id", "quarantine_reasons") == [
        ("s5", [f"departed_at: unparseable timestamp 'yesterday at noon': {fits_none}", "departed_at: required"]),
        ("s6", [f"arrived_at: unparseable timestamp '31/02/2026 10:00': {fits_none}"]),
    ]


LEGACY_SHIPMENT = "ShipmentID string, CustID string, VehicleNo string, OriginCity string, DestCity string, DepartTS string, ArriveTS string, CargoKg double, StatusCd string, Op string, commit_ts timestamp"


def legacy_departures(spark, contract, values):
    raw = spark.createDataFrame(
        [(f"s{i}", "c1", "v1", "Madrid", None, v, None, 1.0, "in_transit", "I", T("2026-11-21 08:00:00")) for i, v in enumerate(values)], LEGACY_SHIPMENT
    )
    changes, quarantined = legacy_sql.prepare_changes(raw, contract)
    return dict(rows(changes, "shipment_id", "departed_at")), dict(rows(quarantined, "shipment_id", "quarantine_reasons"))


def test_legacy_sql_server_text_forms_and_the_contracts_day_order(spark):
    parsed, quarantined = legacy_departures(spark, contract_of(CONTRACTS, "shipments"), [
        "2026-03-01 12:00:00.000",       # SQL Server datetime as text
        "2026-03-01 12:00:00.1234567",   # datetime2(7): truncated to microseconds
        "Mar  1 2026 12:00PM",           # SQL Server's default text form, two spaces before a one-digit day
        "Mar 11 2026  1:05AM",
        "03/01/2026 10:00",              # the contract says day first: 3 January
        "12/31/2026 10:00",              # no 31st month: refused, never read as 31 December
    ])
    assert parsed == {
        "s0": T("2026-03-01 12:00:00"), "s1": T("2026-03-01 12:00:00.123456"), "s2": T("2026-03-01 12:00:00"),
        "s3": T("2026-03-11 01:05:00"), "s4": T("2026-01-03 10:00:00"),
    }
    assert quarantined == {"s5": ["departed_at: unparseable timestamp '12/31/2026 10:00': none of the contract's raw.legacyTimestamps formats fits (day_first)", "departed_at: required"]}


def test_legacy_values_without_an_offset_are_in_the_contracts_time_zone(spark):
    import copy

    contract = copy.deepcopy(contract_of(CONTRACTS, "shipments"))
    contract["raw"]["legacyTimestamps"]["timeZone"] = "Europe/Madrid"
    parsed, _ = legacy_departures(spark, contract, ["2026-07-01 12:00:00", "2026-01-15 12:00:00", "2026-07-01T12:00:00+02:00", "1795258800"])
    # Madrid is UTC+2 in July, UTC+1 in January; an explicit offset and epoch seconds are absolute.
    assert parsed == {"s0": T("2026-07-01 10:00:00"), "s1": T("2026-01-15 11:00:00"), "s2": T("2026-07-01 10:00:00"), "s3": T("2026-11-21 11:00:00")}


# --- Telematics: duplicates, a counter reset, a 20-minute gap -------------------------------------


def telematics_raw(spark, readings):
    schema = "vehicle_id string, ts long, latitude double, longitude double, speed_kmh double, odometer_km double, fuel_used_l double, load_kg double, engine_temp_c double, ingested_at long"
    return spark.createDataFrame(readings, schema)


def ms(text):
    return int(datetime.fromisoformat(text + "+00:00").timestamp() * 1000)


def test_telematics_dedup_counter_reset_and_gap(spark):
    r = lambda t, odo, fuel, load=8000.0: ("v1", ms(t), 40.4, -3.7, 60.0, odo, fuel, load, 90.0, ms(t) + 1000)  # noqa: E731
    readings = [
        r("2026-11-21 10:00:00", 1000.0, 500.0),
        r("2026-11-21 10:05:00", 1005.0, 502.0),
        r("2026-11-21 10:05:00", 1005.0, 502.0),  # duplicate
        r("2026-11-21 10:10:00", 1010.0, 1.0),  # fuel counter reset: negative delta
        r("2026-11-21 10:15:00", 1016.0, 2.5),
        r("2026-11-21 10:35:00", 1040.0, 5.0, 200.0),  # 20 minutes after the previous: gap
        r("2026-11-21 10:40:00", 1046.0, 6.8, 20000.0),
        ("v1", None, 40.4, -3.7, 60.0, 1.0, 1.0, 1.0, 90.0, 0),  # no ts: quarantined
    ]
    valid, quarantined = telematics.prepare(telematics_raw(spark, readings), contract_of(CONTRACTS, "telematics"))
    intervals = telematics.with_intervals(valid)
    assert rows(intervals, "ts", "distance_km", "fuel_l", "interval_status", "load_band", order=["ts"]) == [
        (T("2026-11-21 10:00:00"), None, None, "first_reading", "partial"),
        (T("2026-11-21 10:05:00"), 5.0, 2.0, "ok", "partial"),
        (T("2026-11-21 10:10:00"), 5.0, -501.0, "negative_delta", "partial"),
        (T("2026-11-21 10:15:00"), 6.0, 1.5, "ok", "partial"),
        (T("2026-11-21 10:35:00"), 24.0, 2.5, "gap_over_15_min", "empty"),
        (T("2026-11-21 10:40:00"), 6.0, pytest.approx(1.8), "ok", "full"),
    ]
    assert rows(quarantined, "quarantine_reasons") == [(["ts: required"],)]


def test_telematics_first_arrival_wins_whatever_the_order_of_the_copies(spark):
    r = lambda v, t, odo, ingested: (v, ms(t), 40.4, -3.7, 60.0, odo, 10.0, 8000.0, 90.0, ms(ingested))  # noqa: E731
    readings = [
        r("v1", "2026-11-21 10:05:00", 1005.0, "2026-11-21 12:00:00"),  # a later copy, listed first
        r("v1", "2026-11-21 10:05:00", 1004.0, "2026-11-21 10:06:00"),  # the first arrival: kept
        r("v1", "2026-11-21 10:05:00", 1006.0, "2026-11-21 11:00:00"),
        r("v1", "2026-11-21 10:00:00", 1000.0, "2026-11-21 10:01:00"),
        r("v2", "2026-11-21 10:05:00", 2000.0, "2026-11-21 10:09:00"),  # another vehicle, the same ts: its own key
    ]
    valid, _ = telematics.prepare(telematics_raw(spark, readings), contract_of(CONTRACTS, "telematics"))
    assert rows(valid, "vehicle_id", "ts", "odometer_km") == [
        ("v1", T("2026-11-21 10:00:00"), 1000.0),
        ("v1", T("2026-11-21 10:05:00"), 1004.0),
        ("v2", T("2026-11-21 10:05:00"), 2000.0),
    ]


def test_telematics_a_days_first_interval_starts_at_the_earlier_reading_when_nothing_lies_between(spark):
    # The batch holds v1 on the 21st and the 23rd; the table's last readings before those days
    # (on untouched days) are given as `earlier`.
    r = lambda v, t, odo, fuel: (v, ms(t), 40.4, -3.7, 60.0, odo, fuel, 8000.0, 90.0, ms(t) + 1000)  # noqa: E731
    readings = [
        r("v1", "2026-11-21 06:00:00", 1000.0, 100.0),
        r("v1", "2026-11-21 06:05:00", 1004.0, 101.0),
        r("v1", "2026-11-23 06:00:00", 1300.0, 150.0),
        r("v2", "2026-11-21 06:00:00", 5000.0, 900.0),
    ]
    valid, _ = telematics.prepare(telematics_raw(spark, readings), contract_of(CONTRACTS, "telematics"))
    earlier = spark.createDataFrame(
        [
            ("v1", date(2026, 11, 21), T("2026-11-20 23:55:00"), 996.0, 99.0),  # just before the 21st: the first reading's previous
            ("v1", date(2026, 11, 23), T("2026-11-22 17:00:00"), 1200.0, 140.0),  # the 22nd, untouched: later than the 21st's readings
        ],
        "vehicle_id string, day date, ts timestamp, odometer_km double, fuel_used_l double",
    )
    intervals = telematics.with_intervals(valid, earlier)
    assert rows(intervals, "vehicle_id", "ts", "distance_km", "fuel_l", "interval_seconds", "interval_status") == [
        ("v1", T("2026-11-21 06:00:00"), 4.0, 1.0, 6 * 3600 + 300, "gap_over_15_min"),
        ("v1", T("2026-11-21 06:05:00"), 4.0, 1.0, 300, "ok"),
        ("v1", T("2026-11-23 06:00:00"), 100.0, 10.0, 13 * 3600, "gap_over_15_min"),
        ("v2", T("2026-11-21 06:00:00"), None, None, None, "first_reading"),  # nothing earlier
    ]
    # An earlier reading older than the batch's own previous one is not taken.
    stale = spark.createDataFrame([("v1", date(2026, 11, 23), T("2026-11-20 08:00:00"), 900.0, 90.0)], earlier.schema)
    again = telematics.with_intervals(valid, stale).where(F.col("ts") == T("2026-11-23 06:00:00"))
    assert rows(again, "distance_km", "interval_seconds") == [(296.0, 2 * 86400 - 300)]


def test_telematics_deduplication_and_intervals_shuffle_the_batch_once(spark):
    # Issue 17: the deduplication and the intervals are both windows by vehicle, so the plan has
    # one exchange, also when the batch is cached between them as the pipeline does.
    r = lambda v, t: (v, ms(t), 40.4, -3.7, 60.0, 1.0, 1.0, 8000.0, 90.0, ms(t))  # noqa: E731
    valid, _ = telematics.prepare(telematics_raw(spark, [r("v1", "2026-11-21 06:00:00"), r("v2", "2026-11-21 06:00:00")]), contract_of(CONTRACTS, "telematics"))
    valid = valid.persist()
    try:
        earlier = spark.createDataFrame([], "vehicle_id string, day date, ts timestamp, odometer_km double, fuel_used_l double")
        plan = telematics.with_intervals(valid, earlier)._jdf.queryExecution().executedPlan().toString()
        above_the_cache = plan.split("InMemoryRelation")[0]
        assert above_the_cache.count("Exchange hashpartitioning") == 0, plan
        cached = valid._jdf.queryExecution().executedPlan().toString()
        assert cached.count("Exchange hashpartitioning") == 1, cached
    finally:
        valid.unpersist()


# --- Weather: a missing hour ------------------------------------------------------------------------


def test_weather_series_flags_the_missing_hour_and_bands_temperatures(spark):
    obs = [("Madrid", f"2026-11-21T{h:02d}:00:00Z", t, 0.0, 10.0, 1, "cloudy", 40.4, -3.7) for h, t in [(0, 9.9), (1, 10.0), (2, 24.9), (4, 25.0)]]
    obs.append(("Madrid", "2026-11-21T01:00:00Z", 10.0, 0.0, 10.0, 1, "cloudy", 40.4, -3.7))  # the same hour again
    schema = "city string, observation_hour string, temperature_c double, precipitation_mm double, wind_speed_kmh double, weather_code int, condition string, latitude double, longitude double"
    valid, quarantined = weather.prepare(spark.createDataFrame(obs, schema), contract_of(CONTRACTS, "weather"))
    series = weather.hourly_series(spark, valid, "2026-11-21", "2026-11-21", ["Madrid"])
    first_five = series.where(F.hour("observation_hour") < 5)
    assert rows(first_five, "observation_hour", "temperature_c", "temp_range", "is_missing") == [
        (T("2026-11-21 00:00:00"), 9.9, "Low", False),
        (T("2026-11-21 01:00:00"), 10.0, "Medium", False),
        (T("2026-11-21 02:00:00"), 24.9, "Medium", False),
        (T("2026-11-21 03:00:00"), None, None, True),
        (T("2026-11-21 04:00:00"), 25.0, "High", False),
    ]
    assert series.count() == 24 and series.where("is_missing").count() == 20
    assert quarantined.count() == 0


# --- The KPI, worked out by hand -------------------------------------------------------------------


def test_telemetry_metrics_by_hand(spark):
    """Two vehicles on shipments from Madrid on 2026-11-21 between 10:00 and 11:00.

    v1 (shipment s1, customer c1, enterprise): intervals 10:05 (8 km, 2.0 l), 10:10 (12 km, 3.1 l)
    v2 (shipment s2, customer c2, mid_market): interval 10:35 (10 km, 3.5 l)
    Weather in Madrid: 10:00 hour 8 °C rain (Low), so every interval is Madrid / Low / rain.
    v2 also drives 10:50 in no shipment (left out) and v1 has a gap (rejected).

    enterprise: 100 x (2.0 + 3.1) / (8 + 12) = 25.5 l/100 km over 2 intervals, 1 vehicle
    mid_market: 100 x 3.5 / 10 = 35.0 l/100 km over 1 interval, 1 vehicle
    """
    iv = "vehicle_id string, ts timestamp, distance_km double, fuel_l double, interval_status string"
    intervals = spark.createDataFrame(
        [
            ("v1", T("2026-11-21 10:00:00"), None, None, "first_reading"),
            ("v1", T("2026-11-21 10:05:00"), 8.0, 2.0, "ok"),
            ("v1", T("2026-11-21 10:10:00"), 12.0, 3.1, "ok"),
            ("v1", T("2026-11-21 10:40:00"), 30.0, 6.0, "gap_over_15_min"),
            ("v2", T("2026-11-21 10:35:00"), 10.0, 3.5, "ok"),
            ("v2", T("2026-11-21 10:50:00"), 9.0, 2.0, "ok"),
        ],
        iv,
    )
    shipments = spark.createDataFrame(
        [
            ("s1", "c1", "v1", "Madrid", T("2026-11-21 09:55:00"), T("2026-11-21 10:30:00")),
            ("s2", "c2", "v2", "Madrid", T("2026-11-21 10:20:00"), T("2026-11-21 10:45:00")),
        ],
        "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp",
    )
    weather_series = spark.createDataFrame(
        [("Madrid", T("2026-11-21 10:00:00"), "Low", "rain", False)],
        "city string, observation_hour timestamp, temp_range string, condition string, is_missing boolean",
    )
    customers = spark.createDataFrame([("c1", "enterprise", T("2026-11-01 00:00:00")), ("c2", "mid_market", T("2026-11-01 00:00:00"))], "customer_id string, segment string, commit_ts timestamp")
    attributed = metrics.attributed_intervals(intervals, shipments, weather_series, customers)
    result = metrics.telemetry_metrics(attributed)
    assert rows(result, "metric_date", "city", "temp_range", "weather_condition", "customer_segment", "intervals", "vehicles", "distance_km", "fuel_l", "fuel_l_per_100km") == [
        (date(2026, 11, 21), "Madrid", "Low", "rain", "enterprise", 2, 1, 20.0, pytest.approx(5.1), pytest.approx(25.5)),
        (date(2026, 11, 21), "Madrid", "Low", "rain", "mid_market", 1, 1, 10.0, 3.5, pytest.approx(35.0)),
    ]
    assert metrics.outcome_counts(attributed) == {"in_kpi": 3, "no_shipment": 1, "first_reading": 1, "gap_over_15_min": 1}


@pytest.mark.parametrize("broadcast_up_to", [metrics.BROADCAST_PERIOD_DAYS, 0], ids=["periods broadcast", "periods shuffled"])
def test_shipments_over_several_days_and_midnight_by_hand(spark, broadcast_up_to):
    """An interval is joined to its vehicle's periods of its own day (metrics.period_days), so a
    shipment holds its intervals on every day it covers, not only on its first or last. v1: s1
    from 20 Nov 22:00 to 23 Nov 00:00 exactly, then s2 from that midnight to 02:00; v2: s3 across
    the midnight of 22 Nov. Expected by hand: 20 Nov 21:59 none (before s1); 20 Nov 23:00, 21 Nov
    12:00 and 22 Nov 23:59 s1; 23 Nov 00:00 s2 (s1 has arrived); 23 Nov 02:00 none (s2 arrived);
    v2 at 22 Nov 00:15 s3, at 00:30 none. The same with the periods broadcast and shuffled."""
    iv = "vehicle_id string, ts timestamp, distance_km double, fuel_l double, interval_status string"
    expected = [
        ("v1", "2026-11-20 21:59:00", None), ("v1", "2026-11-20 23:00:00", "s1"), ("v1", "2026-11-21 12:00:00", "s1"), ("v1", "2026-11-22 23:59:00", "s1"),
        ("v1", "2026-11-23 00:00:00", "s2"), ("v1", "2026-11-23 02:00:00", None), ("v2", "2026-11-22 00:15:00", "s3"), ("v2", "2026-11-22 00:30:00", None),
    ]
    intervals = spark.createDataFrame([(v, T(ts), 1.0, 0.1, "ok") for v, ts, _ in expected], iv)
    shipments = spark.createDataFrame(
        [
            ("s1", "c1", "v1", "Madrid", T("2026-11-20 22:00:00"), T("2026-11-23 00:00:00")),
            ("s2", "c1", "v1", "Madrid", T("2026-11-23 00:00:00"), T("2026-11-23 02:00:00")),
            ("s3", "c1", "v2", "Madrid", T("2026-11-21 23:30:00"), T("2026-11-22 00:30:00")),
        ],
        "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp",
    )
    weather_series = spark.createDataFrame(
        [("Madrid", T(f"2026-11-{d} {h:02d}:00:00"), "Low", "rain", False) for d in (20, 21, 22, 23) for h in range(24)],
        "city string, observation_hour timestamp, temp_range string, condition string, is_missing boolean",
    )
    customers = spark.createDataFrame([("c1", "enterprise", T("2026-11-01 00:00:00"))], "customer_id string, segment string, commit_ts timestamp")
    attributed = metrics.attributed_intervals(intervals, shipments, weather_series, customers, broadcast_periods_up_to=broadcast_up_to)
    assert rows(attributed, "vehicle_id", "ts", "shipment_id", "outcome", order=["vehicle_id", "ts"]) == [
        (v, T(ts), shipment, "in_kpi" if shipment else "no_shipment") for v, ts, shipment in expected
    ]
    join = next(line for line in attributed._jdf.queryExecution().executedPlan().toString().splitlines() if "Join" in line and "s_day" in line)
    assert ("BroadcastHashJoin" in join) == (broadcast_up_to > 0), join


def test_an_interval_takes_the_weather_of_its_own_hour_at_the_hours_edges(spark):
    """The last instant of an hour (09:59:59.999999) takes that hour's weather, the first
    (10:00:00) the next hour's, and an hour whose weather is missing gives no_weather."""
    times = {"2026-11-21 09:59:59.999999": "fog", "2026-11-21 10:00:00": "rain", "2026-11-21 10:59:59.500000": "rain", "2026-11-21 11:00:00": None}
    intervals = spark.createDataFrame([("v1", T(t), 1.0, 0.1, "ok") for t in times],
                                      "vehicle_id string, ts timestamp, distance_km double, fuel_l double, interval_status string")
    shipments = spark.createDataFrame([("s1", "c1", "v1", "Madrid", T("2026-11-21 09:00:00"), T("2026-11-21 12:00:00"))],
                                      "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp")
    weather_series = spark.createDataFrame(
        [("Madrid", T("2026-11-21 09:00:00"), "Low", "fog", False), ("Madrid", T("2026-11-21 10:00:00"), "Low", "rain", False),
         ("Madrid", T("2026-11-21 11:00:00"), "Low", "clear", True), ("Sevilla", T("2026-11-21 11:00:00"), "High", "clear", False)],
        "city string, observation_hour timestamp, temp_range string, condition string, is_missing boolean",
    )
    customers = spark.createDataFrame([("c1", "enterprise", T("2026-11-01 00:00:00"))], "customer_id string, segment string, commit_ts timestamp")
    attributed = metrics.attributed_intervals(intervals, shipments, weather_series, customers)
    assert rows(attributed, "ts", "weather_condition", "outcome", order=["ts"]) == [
        (T(t), condition, "in_kpi" if condition else "no_weather") for t, condition in times.items()
    ]


def test_overlapping_shipments_and_customer_versions_by_hand(spark):
    """One vehicle, three shipments: s1 09:00-12:00 (c1), s2 10:00-11:00 (c2) departs later and
    overlaps s1, s3 11:30-13:00 (c2) overlaps s1's end. The interval at each time belongs to the
    covering shipment that departed last:
      09:30 s1; 10:00 s2 (at its departure); 10:59 s2; 11:00 s1 again (s2 arrived); 11:30 s3;
      12:30 s3; 13:00 none (s3 arrived at 13:00).
    c1 is enterprise from 2026-11-21 10:30 (its first version, so also before that), mid_market
    from 11:00, deleted at 12:00; c2 is small_business throughout; c9 was never seen.
      09:30 c1 enterprise (before its first version: the first); 11:00 c1 mid_market;
      10:00, 10:59, 11:30, 12:30 c2 small_business."""
    iv = "vehicle_id string, ts timestamp, distance_km double, fuel_l double, interval_status string"
    times = ["09:30", "10:00", "10:59", "11:00", "11:30", "12:30", "13:00"]
    intervals = spark.createDataFrame([("v1", T(f"2026-11-21 {t}:00"), 1.0, 0.1, "ok") for t in times], iv)
    shipments = spark.createDataFrame(
        [
            ("s1", "c1", "v1", "Madrid", T("2026-11-21 09:00:00"), T("2026-11-21 12:00:00")),
            ("s2", "c2", "v1", "Madrid", T("2026-11-21 10:00:00"), T("2026-11-21 11:00:00")),
            ("s3", "c2", "v1", "Madrid", T("2026-11-21 11:30:00"), T("2026-11-21 13:00:00")),
            ("s4", "c9", "v2", "Madrid", T("2026-11-21 09:00:00"), T("2026-11-21 13:00:00")),
        ],
        "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp",
    )
    weather_series = spark.createDataFrame(
        [("Madrid", T(f"2026-11-21 {h:02d}:00:00"), "Low", "rain", False) for h in range(8, 14)],
        "city string, observation_hour timestamp, temp_range string, condition string, is_missing boolean",
    )
    customers = spark.createDataFrame(
        [
            ("c1", "enterprise", T("2026-11-21 10:30:00"), "I"),
            ("c1", "mid_market", T("2026-11-21 11:00:00"), "U"),
            ("c1", "mid_market", T("2026-11-21 12:00:00"), "D"),
            ("c2", "small_business", T("2026-11-01 00:00:00"), "I"),
        ],
        "customer_id string, segment string, commit_ts timestamp, Op string",
    )
    attributed = metrics.attributed_intervals(intervals, shipments, weather_series, customers)
    assert rows(attributed, "ts", "shipment_id", "customer_segment", "outcome", order=["ts"]) == [
        (T("2026-11-21 09:30:00"), "s1", "enterprise", "in_kpi"),
        (T("2026-11-21 10:00:00"), "s2", "small_business", "in_kpi"),
        (T("2026-11-21 10:59:00"), "s2", "small_business", "in_kpi"),
        (T("2026-11-21 11:00:00"), "s1", "mid_market", "in_kpi"),
        (T("2026-11-21 11:30:00"), "s3", "small_business", "in_kpi"),
        (T("2026-11-21 12:30:00"), "s3", "small_business", "in_kpi"),
        (T("2026-11-21 13:00:00"), None, None, "no_shipment"),
    ]
    # c1 after its delete: an interval of s1 at 11:45 would be c1's; at 12:00 s1 has arrived. A
    # second vehicle on c1's shipment after the delete gets no segment (unknown in the KPI).
    late = spark.createDataFrame([("v3", T("2026-11-21 12:15:00"), 1.0, 0.1, "ok")], iv)
    s_late = spark.createDataFrame([("s5", "c1", "v3", "Madrid", T("2026-11-21 12:10:00"), T("2026-11-21 12:40:00"))],
                                   "shipment_id string, customer_id string, vehicle_id string, origin_city string, departed_at timestamp, arrived_at timestamp")
    assert rows(metrics.attributed_intervals(late, s_late, weather_series, customers), "shipment_id", "customer_segment") == [("s5", None)]
    kpi = metrics.telemetry_metrics(metrics.attributed_intervals(late, s_late, weather_series, customers))
    assert rows(kpi, "customer_segment", "intervals") == [("unknown", 1)]
