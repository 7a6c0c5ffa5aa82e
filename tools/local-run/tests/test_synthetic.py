"""The generator's ground truth, worked out by hand for a fleet small enough to do so: the local
run checks its results against this oracle, so the oracle itself must be right."""

from datetime import date

import pytest
import synthetic

CITIES = [{"name": "Madrid", "latitude": 40.4168, "longitude": -3.7038}, {"name": "Barcelona", "latitude": 41.3874, "longitude": 2.1686}]


@pytest.fixture(scope="module")
def one_vehicle(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    fleet = synthetic.Fleet(vehicles=1, days=1, start=date(2026, 11, 2), cities=CITIES)
    return synthetic.generate(fleet, root / "landing", root / "api", root / "streams"), root


def test_a_kpi_row_by_hand(one_vehicle):
    expected, _ = one_vehicle
    # Vehicle 0 drives from Madrid (city 0) on day 0. Hours 06-08: 2.0, 3.5 and 5.0 °C (Low), WMO
    # code 61 (rain): 31 (Low) + 4 (rain) + 0 (no load) = 35 l/100 km at 0.6 km a minute. Intervals
    # end at 06:01..06:59 (59; the 06:00 reading is the first), then 60 in each of 07 and 08.
    intervals, vehicles, distance, fuel = expected.kpi[("2026-11-02", "Madrid", "Low", "rain", "enterprise")]
    assert (intervals, vehicles) == (179, 1)
    assert distance == pytest.approx(179 * 0.6, rel=1e-9)
    assert fuel == pytest.approx(179 * 0.6 * 0.35, abs=1e-3)  # the counters are rounded to 4 decimals


def test_counts_by_hand(one_vehicle):
    expected, _ = one_vehicle
    assert expected.telematics_raw_rows == 720 + 10 + 3  # a reading a minute, 10 delivered twice, 3 broken
    assert (expected.telematics_duplicates, expected.telematics_quarantined) == (10, 3)
    # 719 intervals: Madrid's 13:00 hour has no weather (left out by the API): 60 of them
    assert expected.interval_outcomes == {"first_reading": 1, "in_kpi": 659, "no_weather": 60}
    assert sum(row[0] for row in expected.kpi.values()) == 659
    # Madrid 23 hours (one omitted); Barcelona 24 answered, one with a null temperature
    assert (expected.weather_rows_pulled, expected.weather_quarantined_by_pull, expected.weather_missing_hours) == (23 + 23, 1, 2)
    # shipments: 1 inserted + updated, 1 unreadable, 1 inserted and deleted -> 5 changes, 1 current
    assert (expected.shipments_raw_rows, expected.shipments_quarantined, expected.shipments_current) == (5, 1, 1)
    assert expected.sensor_enrichment == {"CALIBRATED": 2 * 144, "NO_DEVICE_RECORD": 0}


def test_sources_are_in_their_writers_layout(one_vehicle):
    _, root = one_vehicle
    raw = root / "landing" / "raw"
    assert sorted(p.relative_to(raw).as_posix() for p in raw.glob("legacy_sql/shipments/*/*")) == ["legacy_sql/shipments/2026-11-02/LOAD00000001.parquet"]
    hours = sorted(p.name for p in raw.glob("iot/telematics/ingest_date=2026-11-02/*"))
    assert hours == [f"ingest_hour={h:02d}" for h in range(6, 18)]
    assert all(p.name.endswith(".gz") for p in raw.glob("iot/telematics/*/*/*"))


def test_sensor_pull_times_cover_every_reading_twice():
    fleet = synthetic.Fleet(vehicles=1, days=1, start=date(2026, 11, 2), cities=CITIES)
    times = synthetic.sensor_pull_times(fleet, every_minutes=5, window_minutes=10)
    assert times[0] == "2026-11-02T06:05:00Z" and times[-1] == "2026-11-02T18:10:00Z"

