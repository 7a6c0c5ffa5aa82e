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
    # vehicle 0's temperature sensor is recalibrated at 12:00:30: its readings from 12:05 to 17:55
    # (71) take version 2; its 12:00:00 reading, seconds before in the same minute, keeps version 1
    assert expected.sensor_device_versions == {"1": 144 + 73, "2": 71}


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



@pytest.fixture(scope="module")
def late_fleet(tmp_path_factory):
    """Five vehicles over three days: every late arrival is planted."""
    root = tmp_path_factory.mktemp("late-fleet")
    fleet = synthetic.Fleet(vehicles=5, days=3, start=date(2026, 11, 2), cities=CITIES)
    return synthetic.generate(fleet, root / "landing", root / "api", root / "streams"), root, fleet


def test_late_arrivals_land_in_later_folders(late_fleet):
    import gzip
    import json

    import pyarrow.parquet as pq

    expected, root, fleet = late_fleet
    raw = root / "landing" / "raw"
    # Shipments: 13 changes a day (5 inserts, 5 deliveries, an unreadable one, a cancelled pair),
    # less vehicle 1's same-day deliveries on the first two days, plus the four late changes:
    # vehicle 1's arrivals (in the next day's folder), vehicle 4's delete, vehicle 3's corrected origin.
    late = {p.parent.name: pq.read_table(p).to_pylist() for p in raw.glob("legacy_sql/shipments/*/2026*000000.parquet")}
    late = {day: sorted((r["ShipmentID"], r["Op"], r["OriginCity"], r["ArriveTS"] is not None) for r in rows) for day, rows in late.items()}
    assert late == {
        "2026-11-03": [("SH-0001-20261102", "U", "Barcelona", True), ("SH-0004-20261102", "D", "Madrid", True)],
        "2026-11-04": [("SH-0001-20261103", "U", "Madrid", True), ("SH-0003-20261102", "U", "Barcelona", True)],
    }
    assert (expected.shipments_raw_rows, expected.shipments_current) == (3 * 13 - 2 + 4, 15 - 1)
    # Telemetry: vehicle 2's 17:00 hour and vehicle 0's last ten readings of days 0 and 1 arrive
    # the next morning; copies: 10 within the day, every day, and the 10 redelivered, twice.
    morning = [json.loads(line) for f in raw.glob("iot/telematics/ingest_date=2026-11-03/ingest_hour=07/*.gz") for line in gzip.decompress(f.read_bytes()).splitlines()]
    from_day_before = [r for r in morning if r["ts"] < 1793664000000]  # before 2026-11-03T00:00Z
    assert sorted({r["vehicle_id"] for r in from_day_before}) == ["veh-0000", "veh-0002"]
    assert len(from_day_before) == 60 + 10
    assert expected.telematics_duplicates == 3 * 10 + 2 * 10
    # Weather: Madrid's omitted 13:00 hour of days 0 and 1 arrives in the next day's folder.
    late_weather = sorted(p.relative_to(raw).as_posix() for p in raw.glob("weather/weather/*/late-*.ndjson"))
    assert late_weather == ["weather/weather/ingest_date=2026-11-03/late-2026-11-02-13.ndjson", "weather/weather/ingest_date=2026-11-04/late-2026-11-03-13.ndjson"]
    assert expected.weather_missing_hours == 2 * 3 - 2


def test_the_ground_truth_is_the_final_data(late_fleet):
    expected, _, fleet = late_fleet
    # Vehicle 4's first shipment was deleted: its 719 intervals of that day are in no shipment.
    assert expected.interval_outcomes["no_shipment"] == 719
    # Customer 1 (vehicle 1's) is mid_market until noon of the second day, then small_business.
    segments = {key[4] for key in expected.kpi if key[0] == "2026-11-03"}
    assert {"mid_market", "small_business"} <= segments
    day2_v1 = [key for key in expected.kpi if key[0] == "2026-11-04" and key[4] == "mid_market"]
    assert day2_v1 == []  # vehicle 1 is customer 1's only vehicle: after the change, never mid_market again
    assert fleet.segment(1, synthetic.datetime(2026, 11, 3, 11, 59, tzinfo=synthetic.UTC)) == "mid_market"
    assert fleet.segment(1, synthetic.datetime(2026, 11, 3, 12, 0, tzinfo=synthetic.UTC)) == "small_business"


def test_a_partner_truck_comes_as_daily_sftp_files_with_the_planted_ones(tmp_path):
    """Three vehicles, two days, a telematics partner: the last truck's readings leave Firehose's
    objects for one file a day (its late hour in the next day's file, as Firehose would have it),
    and the planted uploads are one repeat and three refusals; the counts follow."""
    import gzip
    import json

    fleet = synthetic.Fleet(vehicles=3, days=2, start=date(2026, 11, 2), cities=CITIES, partner="acme-haulage")
    expected = synthetic.generate(fleet, tmp_path / "landing", tmp_path / "api", tmp_path / "streams")
    firehose = [json.loads(line) for f in (tmp_path / "landing" / "raw").glob("iot/telematics/*/*/*.gz") for line in gzip.decompress(f.read_bytes()).splitlines()]
    assert "veh-0002" not in {r["vehicle_id"] for r in firehose}
    uploads = expected.partner_uploads
    assert [u["key"] for u in uploads] == ["acme-haulage/2026-11-02 readings.json.gz", "acme-haulage/2026-11-03 readings.json.gz", "acme-haulage/readings-sent-again.json.gz",
                                           "acme-haulage/fleet-export.csv", "acme-haulage/corrections.json", "acme-haulage/archive.json.gz"]
    days = [[json.loads(line) for line in gzip.decompress(open(u["file"], "rb").read()).splitlines()] for u in uploads[:2]]
    # 720 readings a day; its 17:00 hour (60) of day 0 goes with day 1's file, where it was uploaded late.
    assert [len(d) for d in days] == [720 - 60, 720 + 60]
    assert {r["vehicle_id"] for d in days for r in d} == {"veh-0002"}
    assert open(uploads[2]["file"], "rb").read() == open(uploads[0]["file"], "rb").read()
    assert dict(expected.dataset_counts["telematics"]) == {"partner_files_promoted": 2, "partner_files_repeated": 1, "partner_files_rejected": 3, "partner_records_promoted": 1440}
    assert expected.telematics_raw_rows == len(firehose) + 1440


def test_a_kafka_truck_comes_as_topic_messages_with_the_planted_ones(tmp_path):
    """Four vehicles, two days, an SFTP partner and a Kafka topic: the truck before last leaves
    Firehose's objects for the topic, its messages without ingested_at (the broker's arrival is
    their timestamp, the late hour's the next morning), its first reading sent twice, and four
    planted messages to refuse; the counts follow."""
    import gzip
    import json

    fleet = synthetic.Fleet(vehicles=4, days=2, start=date(2026, 11, 2), cities=CITIES, partner="acme-haulage", kafka_topic="fleet.telematics")
    assert (fleet.partner_vehicle, fleet.kafka_vehicle) == (3, 2)
    expected = synthetic.generate(fleet, tmp_path / "landing", tmp_path / "api", tmp_path / "streams")
    firehose = [json.loads(line) for f in (tmp_path / "landing" / "raw").glob("iot/telematics/*/*/*.gz") for line in gzip.decompress(f.read_bytes()).splitlines()]
    assert not {"veh-0002", "veh-0003"} & {r["vehicle_id"] for r in firehose}
    messages = expected.kafka_messages
    assert len(messages) == 1440 + 1 + 4
    readings = [m for m in messages[:-4]]
    records = [json.loads(m["value"]) for m in readings]
    assert {r["vehicle_id"] for r in records} == {"veh-0002"} and all("ingested_at" not in r for r in records)
    # The arrival is the reading's time plus 2 s, or the next morning for a late upload, as the IoT rule would have stamped it.
    late = [m for m, r in zip(readings, records) if m["timestamp"] - r["ts"] > 3_600_000]
    assert len(late) == 60 and all(m["timestamp"] - r["ts"] == 2000 for m, r in zip(readings, records) if m not in late and m is not readings[1])
    assert records[0] == records[1] and readings[1]["timestamp"] == readings[0]["timestamp"] + 1000
    planted = messages[-4:]
    assert planted[0]["value"].startswith("vehicle_id=") and json.loads(planted[1]["value"])["speed_kmh"] == 900.0
    assert "ingested_at" in json.loads(planted[2]["value"]) and planted[3]["value"] is None
    counts = expected.dataset_counts["telematics"]
    assert (counts["kafka_records_delivered"], counts["kafka_records_refused"]) == (1441, 4)
    assert expected.telematics_raw_rows == len(firehose) + counts["partner_records_promoted"] + 1441
