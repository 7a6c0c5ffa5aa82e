"""The synthetic fleet of a local run: every source in the form its writer delivers it, and the
ground truth the pipeline must recover from it.

- CRM customers and legacy SQL shipments as DMS writes them to S3: Parquet under
  raw/<source>/<dataset>/<yyyy-MM-dd>/, source column names, an Op column (I, U, D) and commit_ts;
  a full load file on the first day, change files after it. Legacy timestamps in mixed formats.
- Vehicle telemetry as the IoT rule and Firehose land it: GZIP NDJSON, epoch-millisecond ts, the
  rule's vehicle_id and ingested_at, one object per ingest hour under
  raw/iot/telematics/ingest_date=<d>/ingest_hour=<hh>/, with Firehose's object names.
- What the two APIs answer (the pulls write the raw zone themselves): Open-Meteo days per city,
  and sensor readings; and the device registry's updates, which go onto their stream.

Faults are planted on purpose, so every path of the pipeline runs: telemetry delivered twice,
readings that break the contract, an hour the weather API leaves out and one it answers with a
null temperature, a shipment with an unreadable timestamp, a deleted shipment, sensor readings
with an unknown metric or no value, sensors without a device record, and a recalibration.

Data also arrives late and corrected, as in every fleet (each where the run has the days for it,
never on the last day, whose next day the run does not have):
- vehicle 1's shipment gets its arrival in the next day's CDC batch (under way until then);
- vehicle 2 uploads its last driving hour the next morning, in the next day's telemetry folder;
- vehicle 0's last ten readings of a day are delivered again the next morning (copies across batches);
- vehicle 3's first shipment has the wrong origin city, corrected two days later;
- vehicle 4's first shipment is deleted the next day, after its day was aggregated;
- the first city's omitted weather hour arrives in the next day's weather folder;
- customer 1 changes segment at noon of the second day (the KPI takes the segment valid at the
  interval's time).

The generator assigns each interval's fuel and distance itself, so it knows the KPI rows
(telemetry_metrics) and the counts every step must report, computed here in plain Python on the
final data, independently of Spark: that is what the run checks its results against.
"""

from __future__ import annotations

import gzip
import json
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

DRIVING_START_HOUR = 6
READINGS_PER_DAY = 12 * 60  # one a minute, 06:00 to 17:59
SENSOR_EVERY_MINUTES = 5
SEGMENTS = ["enterprise", "mid_market", "small_business", "public_sector"]
# Open-Meteo WMO codes and the conditions lambda/weather-pull/open-meteo.ts maps them to.
WEATHER_CODES = [(0, "clear"), (2, "cloudy"), (61, "rain"), (45, "fog"), (53, "drizzle")]
# Fuel use in l/100 km by temperature range and condition, plus 0.5 per tonne of load.
BASE_RATE = {"Low": 31.0, "Medium": 24.0, "High": 28.0}
CONDITION_EXTRA = {"clear": 0.0, "cloudy": 1.0, "rain": 4.0, "fog": 3.0, "drizzle": 2.0}
# Planted weather gaps: the API leaves this hour out for the first city, and answers this hour
# with a null temperature for the last (the pull quarantines it); both become missing hours.
OMITTED_HOUR, NULL_TEMPERATURE_HOUR = 13, 15
DUPLICATED_MINUTES = range(30, 40)  # vehicle 0's 06:30-06:39 readings, delivered again an hour later
REDELIVERED_MINUTES = range(READINGS_PER_DAY - 10, READINGS_PER_DAY)  # vehicle 0's 17:50-17:59, again the next morning
LATE_UPLOAD_HOUR = 17  # vehicle 2's readings of this hour reach the next day's folder
NEXT_MORNING_HOUR = 7  # ingest hour of what arrives the next morning
SEGMENT_CHANGE_CUSTOMER, SEGMENT_CHANGE_HOUR = 1, 12  # customer 1's new segment, from noon of the second day
LEGACY_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%Y%m%d%H%M%S"]

UTC = timezone.utc


def temp_range(temperature: float) -> str:
    """DESIGN.md's bands (glue-scripts/lakehouse/weather.py); kept apart on purpose: the oracle."""
    return "Low" if temperature < 10 else "Medium" if temperature < 25 else "High"


@dataclass
class Expected:
    """What a correct pipeline reports for the generated data."""

    telematics_raw_rows: int = 0
    telematics_duplicates: int = 0
    telematics_quarantined: int = 0
    weather_rows_pulled: int = 0
    weather_quarantined_by_pull: int = 0
    weather_missing_hours: int = 0
    shipments_raw_rows: int = 0
    shipments_quarantined: int = 0
    shipments_current: int = 0
    customers_current: int = 0
    sensor_readings_served: int = 0
    sensor_readings_quarantined_by_pull: int = 0
    sensor_readings_unique: int = 0
    sensor_enrichment: dict[str, int] = field(default_factory=dict)
    # device_version of the enriched readings ("None" without a device record) -> how many
    sensor_device_versions: dict[str, int] = field(default_factory=dict)
    # device registry records put on their stream: each a version of a sensor's record
    device_update_records: int = 0
    interval_outcomes: dict[str, int] = field(default_factory=dict)
    # Per dataset, the counters of the run's flows (flows.DatasetFlow) its pipeline must report: a new
    # source states its counts here, and checks.py compares them with no change of its own.
    dataset_counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    # (metric_date, city, temp_range, condition, segment) -> [intervals, vehicles, distance_km, fuel_l]
    kpi: dict[tuple[str, str, str, str, str], list[Any]] = field(default_factory=dict)
    # The partner's SFTP uploads in order: {"key": <partner>/<name>, "file": local path, "time": ISO 8601}
    partner_uploads: list[dict[str, str]] = field(default_factory=list)
    # The Kafka topic's messages in the order they are produced: {"key", "value" (text, or None for
    # a tombstone), "timestamp" (epoch ms: when the broker takes it, the arrival the check stamps)}
    kafka_messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Fleet:
    vehicles: int
    days: int
    start: date
    cities: Sequence[dict[str, Any]]
    # The SFTP partner that sends telematics files (config ingestion.partnerFiles), or None: with
    # two vehicles or more, the last is its truck, whose readings come as its daily files.
    partner: str | None = None
    # The Kafka topic of telematics (config ingestion.kafka), or None: with three vehicles or more,
    # the one before last is a truck whose readings its fleet's systems publish to the topic.
    kafka_topic: str | None = None

    @property
    def partner_vehicle(self) -> int | None:
        return self.vehicles - 1 if self.partner and self.vehicles >= 2 else None

    @property
    def kafka_vehicle(self) -> int | None:
        return self.vehicles - 2 if self.kafka_topic and self.vehicles >= 3 else None

    @property
    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(self.days)]

    def vehicle(self, v: int) -> str:
        return f"veh-{v:04d}"

    def customers(self) -> int:
        return max(4, self.vehicles // 2)

    def customer_of(self, v: int) -> int:
        return v % self.customers()

    def segment(self, customer: int, at: datetime) -> str:
        """The customer's segment at a time, the planted change included."""
        if customer == SEGMENT_CHANGE_CUSTOMER and self.days >= 2 and at >= self.segment_change_at:
            return SEGMENTS[(customer + 1) % len(SEGMENTS)]
        return SEGMENTS[customer % len(SEGMENTS)]

    @property
    def segment_change_at(self) -> datetime:
        return datetime.combine(self.start + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=SEGMENT_CHANGE_HOUR)

    def has_next_day(self, d: int) -> bool:
        return d + 1 < self.days

    def arrival_late(self, v: int, d: int) -> bool:
        return v == 1 and self.has_next_day(d)

    def uploads_late(self, v: int, d: int) -> bool:
        return v == 2 and self.has_next_day(d)

    def origin_corrected(self, v: int, d: int) -> bool:
        return v == 3 and d == 0 and self.days >= 3

    def shipment_deleted(self, v: int, d: int) -> bool:
        return v == 4 and d == 0 and self.days >= 2

    def weather_hour_late(self, city: int, d: int) -> bool:
        return city == 0 and self.has_next_day(d)

    def origin(self, v: int, d: int) -> int:
        return (v + d) % len(self.cities)

    def temperature(self, city: int, d: int, hour: int) -> float:
        base = [2.0, 9.0, 16.0][(d + city) % 3]
        return round(base + (hour - DRIVING_START_HOUR) * 1.5, 1)

    def weather_code(self, city: int, d: int, hour: int) -> tuple[int, str]:
        return WEATHER_CODES[(hour // 3 + d + city) % len(WEATHER_CODES)]

    def load_kg(self, v: int) -> float:
        return float((v % 4) * 4000)

    def km_per_minute(self, v: int) -> float:
        return 0.6 + 0.05 * (v % 5)

    def rate(self, city: int, d: int, hour: int, v: int) -> float:
        condition = self.weather_code(city, d, hour)[1]
        return BASE_RATE[temp_range(self.temperature(city, d, hour))] + CONDITION_EXTRA[condition] + self.load_kg(v) / 2000


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


SHIPMENT_SCHEMA = pa.schema(
    [("ShipmentID", pa.string()), ("CustID", pa.string()), ("VehicleNo", pa.string()), ("OriginCity", pa.string()), ("DestCity", pa.string()),
     ("DepartTS", pa.string()), ("ArriveTS", pa.string()), ("CargoKg", pa.float64()), ("StatusCd", pa.string()),
     ("Op", pa.string()), ("commit_ts", pa.timestamp("us", tz="UTC"))]
)
CUSTOMER_SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("customer_name", pa.string()), ("segment", pa.string()), ("country_code", pa.string()),
     ("created_at", pa.timestamp("us", tz="UTC")), ("updated_at", pa.timestamp("us", tz="UTC")),
     ("Op", pa.string()), ("commit_ts", pa.timestamp("us", tz="UTC"))]
)


def generate(fleet: Fleet, landing: Path, api: Path, streams: Path) -> Expected:
    """Writes the sources (landing/raw/... as the raw bucket's keys, api/ for the API stand-ins,
    streams/ for the device registry) and returns what the pipeline must make of them."""
    expected = Expected()
    _customers(fleet, landing, expected)
    origin_of = _shipments(fleet, landing, expected)
    _telemetry(fleet, landing, expected, origin_of)
    _weather_answers(fleet, landing, api, expected)
    _sensors(fleet, api, streams, expected)
    expected.customers_current = fleet.customers()
    return expected


def _customers(fleet: Fleet, landing: Path, expected: Expected) -> None:
    days = fleet.day_list
    folder = landing / "raw/crm/customers"
    load_at = datetime.combine(days[0], datetime.min.time(), UTC) - timedelta(hours=1)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    full_load = [
        {"customer_id": f"cust-{c:03d}", "customer_name": f"Customer {c}", "segment": fleet.segment(c, load_at), "country_code": "ES",
         "created_at": created, "updated_at": created, "Op": "I", "commit_ts": load_at}
        for c in range(fleet.customers())
    ]
    # A customer closed on the last day: inserted by the full load, deleted by CDC.
    full_load.append({"customer_id": "cust-closed", "customer_name": "Closed account", "segment": "small_business", "country_code": "ES",
                      "created_at": created, "updated_at": created, "Op": "I", "commit_ts": load_at})
    _write_parquet(folder / days[0].isoformat() / "LOAD00000001.parquet", full_load, CUSTOMER_SCHEMA)
    # Every change is read by the job; the generator plants none that breaks the contract.
    expected.dataset_counts["customers"]["glue_read"] += len(full_load)
    expected.dataset_counts["customers"]["glue_quarantined"] += 0
    last = datetime.combine(days[-1], datetime.min.time(), UTC) + timedelta(hours=20)
    changes = [
        {**full_load[0], "customer_name": "Customer 0 (renamed)", "updated_at": last, "Op": "U", "commit_ts": last},
        {**full_load[-1], "Op": "D", "commit_ts": last + timedelta(minutes=1)},
    ]
    _write_parquet(folder / days[-1].isoformat() / f"{last:%Y%m%d-%H%M%S}000.parquet", changes, CUSTOMER_SCHEMA)
    expected.dataset_counts["customers"]["glue_read"] += len(changes)
    if fleet.days >= 2:
        at = fleet.segment_change_at
        c = SEGMENT_CHANGE_CUSTOMER
        change = {**full_load[c], "segment": fleet.segment(c, at), "updated_at": at, "Op": "U", "commit_ts": at}
        _write_parquet(folder / days[1].isoformat() / f"{at:%Y%m%d-%H%M%S}000.parquet", [change], CUSTOMER_SCHEMA)
        expected.dataset_counts["customers"]["glue_read"] += 1


def _shipments(fleet: Fleet, landing: Path, expected: Expected) -> dict[tuple[int, int], int]:
    """One shipment per vehicle and day, 05:55 to 18:00; returns the origin city index of each, as
    the final data has it (after every late change)."""
    folder = landing / "raw/legacy_sql/shipments"
    origin_of = {}
    late: dict[int, list[dict[str, Any]]] = defaultdict(list)  # day index -> changes delivered in that day's folder, late
    for d, day in enumerate(fleet.day_list):
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        rows = []
        for v in range(fleet.vehicles):
            origin = fleet.origin(v, d)
            origin_of[(v, d)] = origin
            fmt = LEGACY_FORMATS[(v + d) % len(LEGACY_FORMATS)]
            arrival = (midnight + timedelta(hours=18)).strftime(fmt)
            row = {"ShipmentID": f"SH-{v:04d}-{day:%Y%m%d}", "CustID": f"cust-{fleet.customer_of(v):03d}", "VehicleNo": fleet.vehicle(v),
                   "OriginCity": fleet.cities[origin]["name"], "DestCity": fleet.cities[(origin + 1) % len(fleet.cities)]["name"],
                   "DepartTS": (midnight + timedelta(hours=5, minutes=55)).strftime(fmt), "ArriveTS": arrival,
                   "CargoKg": fleet.load_kg(v), "StatusCd": "in_transit", "Op": "I", "commit_ts": midnight + timedelta(hours=5, minutes=50)}
            delivered = {**row, "StatusCd": "delivered", "Op": "U", "commit_ts": midnight + timedelta(hours=18, minutes=5)}
            if fleet.origin_corrected(v, d):
                # Keyed with the wrong origin, corrected two days later.
                wrong = fleet.cities[(origin + 1) % len(fleet.cities)]["name"]
                row, delivered = {**row, "OriginCity": wrong}, {**delivered, "OriginCity": wrong}
                late[d + 2].append({**delivered, "OriginCity": fleet.cities[origin]["name"], "commit_ts": midnight + timedelta(days=2, hours=9)})
            if fleet.arrival_late(v, d):
                # Under way until the arrival is entered after midnight, in the next day's batch.
                row = {**row, "ArriveTS": None}
                late[d + 1].append({**delivered, "commit_ts": midnight + timedelta(days=1, minutes=20)})
                delivered = None
            rows.append(row)
            if delivered:
                rows.append(delivered)
            if fleet.shipment_deleted(v, d):
                late[d + 1].append({**row, "Op": "D", "commit_ts": midnight + timedelta(days=1, hours=10)})
        # Planted: a departure time no legacy format fits (quarantined), and a shipment cancelled
        # the same day (inserted, then deleted); neither has telemetry.
        rows.append({**rows[0], "ShipmentID": f"SH-BAD-{day:%Y%m%d}", "VehicleNo": "veh-unknown", "DepartTS": "the 3rd at noon", "Op": "I"})
        cancelled = {**rows[0], "ShipmentID": f"SH-CANCELLED-{day:%Y%m%d}", "VehicleNo": "veh-unknown", "StatusCd": "planned", "Op": "I",
                     "commit_ts": midnight + timedelta(hours=1)}
        rows += [cancelled, {**cancelled, "StatusCd": "cancelled", "Op": "D", "commit_ts": midnight + timedelta(hours=2)}]
        name = "LOAD00000001.parquet" if d == 0 else f"{midnight:%Y%m%d}-180500000.parquet"
        _write_parquet(folder / day.isoformat() / name, rows, SHIPMENT_SCHEMA)
        expected.shipments_raw_rows += len(rows)
        expected.shipments_quarantined += 1
    for d, changes in late.items():
        first = min(c["commit_ts"] for c in changes)
        _write_parquet(folder / fleet.day_list[d].isoformat() / f"{first:%Y%m%d-%H%M%S}000.parquet", changes, SHIPMENT_SCHEMA)
        expected.shipments_raw_rows += len(changes)
    deleted = sum(fleet.shipment_deleted(v, d) for v in range(fleet.vehicles) for d in range(fleet.days))
    expected.shipments_current = fleet.vehicles * fleet.days - deleted
    return origin_of


def _telemetry(fleet: Fleet, landing: Path, expected: Expected, origin_of: dict[tuple[int, int], int]) -> None:
    odometer = {v: 10_000.0 + 1000 * v for v in range(fleet.vehicles)}
    fuel = {v: 500.0 + 100 * v for v in range(fleet.vehicles)}
    outcomes: dict[str, int] = defaultdict(int)
    kpi: dict[tuple, list[Any]] = {}
    kpi_vehicles: dict[tuple, set[int]] = defaultdict(set)
    # (index of the ingest day, ingest hour) -> the lines Firehose delivers in that hour's object
    firehose: dict[tuple[int, int], list[str]] = defaultdict(list)
    # index of the ingest day -> the lines of the partner's truck, in its daily file of that day
    partner_files: dict[int, list[str]] = defaultdict(list)
    # the lines of the Kafka truck, each as the topic's producer sends it (its arrival in ingested_at)
    kafka_lines: list[str] = []

    class Deliveries:
        """Where a vehicle's line goes: the partner's daily file for its truck, the Kafka topic for
        the Kafka truck, Firehose's hourly object otherwise."""
        def __init__(self, v: int):
            self.v = v

        def __getitem__(self, at: tuple[int, int]) -> list[str]:
            if self.v == fleet.kafka_vehicle:
                return kafka_lines
            return partner_files[at[0]] if self.v == fleet.partner_vehicle else firehose[at]
    for d, day in enumerate(fleet.day_list):
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        previous: dict[int, tuple[float, float]] = {}
        for v in range(fleet.vehicles):
            city = origin_of[(v, d)]
            deliveries = Deliveries(v)
            for m in range(READINGS_PER_DAY):
                ts = midnight + timedelta(hours=DRIVING_START_HOUR, minutes=m)
                hour = ts.hour
                if m > 0:  # the interval that ends at this reading
                    odometer[v] += fleet.km_per_minute(v)
                    fuel[v] += fleet.km_per_minute(v) * fleet.rate(city, d, hour, v) / 100
                # Rounded as a device reports them; the deltas the pipeline sees are of these values.
                reading = (round(odometer[v], 3), round(fuel[v], 4))
                if fleet.uploads_late(v, d) and hour == LATE_UPLOAD_HOUR:
                    next_morning = ts.replace(hour=NEXT_MORNING_HOUR) + timedelta(days=1)
                    deliveries[(d + 1, NEXT_MORNING_HOUR)].append(_telemetry_line(fleet.vehicle(v), ts, reading, fleet.load_kg(v), ingested=next_morning))
                else:
                    deliveries[(d, hour)].append(_telemetry_line(fleet.vehicle(v), ts, reading, fleet.load_kg(v), ingested=ts + timedelta(seconds=2)))
                if v == 0 and hour == DRIVING_START_HOUR and m in DUPLICATED_MINUTES:
                    # At-least-once delivery: the same message again, an hour later (dropped by the ETL).
                    deliveries[(d, hour + 1)].append(_telemetry_line(fleet.vehicle(v), ts, reading, fleet.load_kg(v), ingested=ts + timedelta(hours=1)))
                    expected.telematics_duplicates += 1
                if v == 0 and m in REDELIVERED_MINUTES and fleet.has_next_day(d):
                    # Again the next morning, in another batch: a copy of a reading the table holds.
                    again = ts.replace(hour=NEXT_MORNING_HOUR) + timedelta(days=1, minutes=5)
                    deliveries[(d + 1, NEXT_MORNING_HOUR)].append(_telemetry_line(fleet.vehicle(v), ts, reading, fleet.load_kg(v), ingested=again))
                    expected.telematics_duplicates += 1
                if m == 0:
                    # The previous reading is the last of the day before, 12 hours back (or none).
                    outcomes["first_reading" if d == 0 else "gap_over_15_min"] += 1
                elif fleet.shipment_deleted(v, d):
                    outcomes["no_shipment"] += 1
                else:
                    distance = reading[0] - previous[v][0]
                    fuel_l = reading[1] - previous[v][1]
                    omitted = city == 0 and hour == OMITTED_HOUR and not fleet.weather_hour_late(city, d)
                    nulled = city == len(fleet.cities) - 1 and hour == NULL_TEMPERATURE_HOUR
                    if omitted or nulled:
                        outcomes["no_weather"] += 1
                    else:
                        outcomes["in_kpi"] += 1
                        code, condition = fleet.weather_code(city, d, hour)
                        key = (day.isoformat(), fleet.cities[city]["name"], temp_range(fleet.temperature(city, d, hour)), condition,
                               fleet.segment(fleet.customer_of(v), ts))
                        row = kpi.setdefault(key, [0, 0, 0.0, 0.0])
                        row[0] += 1
                        row[2] += distance
                        row[3] += fuel_l
                        kpi_vehicles[key].add(v)
                previous[v] = reading
        # Planted: readings that break the contract, off the minute grid so they touch no interval.
        bad = [
            {"vehicle_id": fleet.vehicle(0), "ts": _ms(midnight + timedelta(hours=7, seconds=30)), "speed_kmh": 400.0, "odometer_km": 1.0, "fuel_used_l": 1.0},
            {"vehicle_id": fleet.vehicle(0), "ts": _ms(midnight + timedelta(hours=8, seconds=30)), "fuel_used_l": 1.0},
            {"vehicle_id": None, "ts": _ms(midnight + timedelta(hours=9, seconds=30)), "odometer_km": 1.0, "fuel_used_l": 1.0},
        ]
        for b in bad:
            b["ingested_at"] = b["ts"] + 2000
            firehose[(d, datetime.fromtimestamp(b["ts"] / 1000, UTC).hour)].append(json.dumps(b))
        expected.telematics_quarantined += len(bad)
    _partner_files(fleet, landing.parent / "partner-files", partner_files, expected)
    _kafka_messages(fleet, kafka_lines, expected)
    for (d, hour), lines in sorted(firehose.items()):
        day = fleet.day_list[d]
        delivered = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hour, minutes=59, seconds=30)
        folder = landing / "raw/iot/telematics" / f"ingest_date={day.isoformat()}" / f"ingest_hour={hour:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"tlh-raw-telemetry-1-{delivered:%Y-%m-%d-%H-%M-%S}-{uuid.UUID(int=d * 100 + hour)}.gz"
        (folder / name).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
        expected.telematics_raw_rows += len(lines)
    expected.interval_outcomes = dict(outcomes)
    for key, row in kpi.items():
        row[1] = len(kpi_vehicles[key])
    expected.kpi = kpi


def _partner_files(fleet: Fleet, folder: Path, daily: dict[int, list[str]], expected: Expected) -> None:
    """The partner's uploads over SFTP: its truck's readings as one GZIP NDJSON file per ingest day,
    sent at 23:30 of that day (so promoted into that day's raw folder, read by that day's job), and,
    planted on the first day, the same file sent again (promoted once), a CSV export, a file with one
    reading out of range (refused whole: none of its readings reaches the lake) and a text file
    named .gz. The partner_* counts are what the check must report."""
    if fleet.partner is None or not daily:
        return
    partner = fleet.partner
    (folder / partner).mkdir(parents=True, exist_ok=True)
    counts = expected.dataset_counts["telematics"]

    def upload(name: str, body: bytes, at: datetime, outcome: str, records: int = 0) -> None:
        path = folder / partner / name
        path.write_bytes(body)
        expected.partner_uploads.append({"key": f"{partner}/{name}", "file": str(path), "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
        counts[f"partner_files_{outcome}"] += 1
        if outcome == "promoted":
            counts["partner_records_promoted"] += records
            expected.telematics_raw_rows += records

    first_file = b""
    for d, lines in sorted(daily.items()):
        day = fleet.day_list[d]
        body = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        first_file = first_file or body
        upload(f"{day.isoformat()} readings.json.gz", body, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23, minutes=30), "promoted", len(lines))
    first = datetime.combine(fleet.day_list[min(daily)], datetime.min.time(), UTC)
    upload("readings-sent-again.json.gz", first_file, first + timedelta(hours=23, minutes=45), "repeated")
    upload("fleet-export.csv", b"vehicle_id,ts,odometer_km\npartner-x,1,2\n", first + timedelta(hours=12), "rejected")
    corrections = [json.loads(_telemetry_line("partner-corrections", first + timedelta(hours=8, minutes=m), (100.0 + m, 10.0 + m), 9000.0, first + timedelta(hours=8, minutes=m, seconds=2)))
                   for m in range(5)]
    corrections[3]["speed_kmh"] = 900.0
    upload("corrections.json", ("\n".join(json.dumps(c) for c in corrections) + "\n").encode(), first + timedelta(hours=12, minutes=5), "rejected")
    upload("archive.json.gz", b'{"vehicle_id": "partner-x"}\n', first + timedelta(hours=12, minutes=10), "rejected")


def _kafka_messages(fleet: Fleet, lines: list[str], expected: Expected) -> None:
    """The Kafka truck's readings as its fleet's producer publishes them: each line without
    ingested_at (the platform stamps the broker's arrival time, which is that value), keyed by the
    vehicle; planted, the first reading sent twice (a producer's retry: both reach the raw zone, the
    job keeps one), and four messages the check refuses into the quarantine: text that is not JSON,
    a speed out of range, a producer's own ingested_at, and a tombstone. The kafka_* counts are
    what the delivery must report."""
    if fleet.kafka_topic is None or not lines:
        return
    counts = expected.dataset_counts["telematics"]

    def publish(record: dict[str, Any] | str | None, arrival_ms: int, key: str, outcome: str) -> None:
        value = record if record is None or isinstance(record, str) else json.dumps(record)
        expected.kafka_messages.append({"key": key, "value": value, "timestamp": arrival_ms})
        counts[f"kafka_records_{outcome}"] += 1
        if outcome == "delivered":
            expected.telematics_raw_rows += 1

    for n, line in enumerate(lines):
        record = json.loads(line)
        arrival = record.pop("ingested_at")
        publish(record, arrival, record["vehicle_id"], "delivered")
        if n == 0:
            publish(record, arrival + 1000, record["vehicle_id"], "delivered")
            expected.telematics_duplicates += 1
    first = json.loads(lines[0])
    vehicle, at = first["vehicle_id"], first["ingested_at"] + 30_000
    publish("vehicle_id=" + vehicle, at, vehicle, "refused")
    publish({k: v for k, v in first.items() if k != "ingested_at"} | {"ts": first["ts"] + 30_000, "speed_kmh": 900.0}, at, vehicle, "refused")
    publish(first | {"ts": first["ts"] + 30_500}, at, vehicle, "refused")
    publish(None, at, vehicle, "refused")


def _telemetry_line(vehicle: str, ts: datetime, reading: tuple[float, float], load_kg: float, ingested: datetime) -> str:
    minute = ts.hour * 60 + ts.minute
    return json.dumps({
        "vehicle_id": vehicle, "ts": _ms(ts), "latitude": 40.0 + (minute % 60) / 1000, "longitude": -3.7, "speed_kmh": 48.0,
        "odometer_km": reading[0], "fuel_used_l": reading[1], "load_kg": load_kg, "engine_temp_c": 88.0 + minute % 7, "ingested_at": _ms(ingested),
    })


def _weather_answers(fleet: Fleet, landing: Path, api: Path, expected: Expected) -> None:
    """Open-Meteo answers, per city latitude and day; and the late hours, landed in the raw zone."""
    answers: dict[str, dict[str, dict[str, Any]]] = {}
    for c, city in enumerate(fleet.cities):
        answers[str(city["latitude"])] = {}
        for d, day in enumerate(fleet.day_list):
            hours = [h for h in range(24) if not (c == 0 and h == OMITTED_HOUR)]
            temperatures = [None if (c == len(fleet.cities) - 1 and h == NULL_TEMPERATURE_HOUR) else fleet.temperature(c, d, h) for h in hours]
            answers[str(city["latitude"])][day.isoformat()] = {
                "latitude": city["latitude"], "longitude": city["longitude"], "generationtime_ms": 0.1, "utc_offset_seconds": 0, "timezone": "GMT",
                "hourly_units": {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm", "wind_speed_10m": "km/h", "weather_code": "wmo code"},
                "hourly": {
                    "time": [f"{day.isoformat()}T{h:02d}:00" for h in hours],
                    "temperature_2m": temperatures,
                    "precipitation": [1.2 if fleet.weather_code(c, d, h)[1] in ("rain", "drizzle") else 0.0 for h in hours],
                    "wind_speed_10m": [10.0 + h for h in hours],
                    "weather_code": [fleet.weather_code(c, d, h)[0] for h in hours],
                },
            }
            expected.weather_rows_pulled += len(hours) - 1 if c == len(fleet.cities) - 1 else len(hours)
            expected.weather_quarantined_by_pull += 1 if c == len(fleet.cities) - 1 else 0
    late = [d for d in range(fleet.days) if fleet.weather_hour_late(0, d)]
    # one omitted hour and one null temperature a day, less the omitted hours that arrive late
    expected.weather_missing_hours = 2 * fleet.days - len(late)
    api.mkdir(parents=True, exist_ok=True)
    (api / "weather-answers.json").write_text(json.dumps(answers))
    for d in late:
        # The first city's omitted hour, delivered with the next day's weather (a re-sent observation),
        # in the row shape the weather pull writes.
        day, code = fleet.day_list[d], fleet.weather_code(0, d, OMITTED_HOUR)
        city = fleet.cities[0]
        row = {"city": city["name"], "observation_hour": f"{day.isoformat()}T{OMITTED_HOUR:02d}:00:00Z", "temperature_c": fleet.temperature(0, d, OMITTED_HOUR),
               "precipitation_mm": 1.2 if code[1] in ("rain", "drizzle") else 0.0, "wind_speed_kmh": 10.0 + OMITTED_HOUR, "weather_code": code[0],
               "condition": code[1], "latitude": city["latitude"], "longitude": city["longitude"]}
        folder = landing / "raw/weather/weather" / f"ingest_date={fleet.day_list[d + 1].isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"late-{day.isoformat()}-{OMITTED_HOUR:02d}.ndjson").write_text(json.dumps(row) + "\n")
        expected.weather_rows_pulled += 1


# The registry command's operation files (tools/registry: apply --file) that make the device records.
REGISTRY_FLEET = "registry-fleet.txt"
REGISTRY_CHANGES = "registry-changes.txt"


def _sensors(fleet: Fleet, api: Path, streams: Path, expected: Expected) -> None:
    """Two sensors a vehicle, a reading every 5 minutes of the driving hours; device records for
    all but every fifth vehicle; and recalibrations on the first day, in busy minutes: vehicle 0's
    temperature sensor at 12:00:30 (its 12:00:00 reading keeps version 1: the same minute, seconds
    before), vehicle 1's fuel sensor at 10:00:00.000 exactly (its 10:00 reading takes version 2)."""
    readings = []
    for day in fleet.day_list:
        midnight = datetime.combine(day, datetime.min.time(), UTC)
        for v in range(fleet.vehicles):
            for kind, metric, unit in (("temp", "temperature", "C"), ("fuel", "fuel_level", "pct")):
                sensor = f"{fleet.vehicle(v)}-{kind}"
                for m in range(0, READINGS_PER_DAY, SENSOR_EVERY_MINUTES):
                    ts = midnight + timedelta(hours=DRIVING_START_HOUR, minutes=m)
                    value = 85.0 + m % 10 if kind == "temp" else round(100 - m / 12, 2)
                    readings.append({"reading_id": f"rd-{sensor}-{ts:%Y%m%d%H%M}", "sensor_id": sensor, "ts": _iso(ts), "metric": metric, "value": value, "unit": unit})
        # Planted: an unknown metric and a reading without a value (quarantined by the pull).
        noon = midnight + timedelta(hours=12, seconds=15)
        readings.append({"reading_id": f"rd-bad-metric-{day:%Y%m%d}", "sensor_id": f"{fleet.vehicle(0)}-temp", "ts": _iso(noon), "metric": "altitude", "value": 1.0, "unit": "m"})
        readings.append({"reading_id": f"rd-no-value-{day:%Y%m%d}", "sensor_id": f"{fleet.vehicle(0)}-temp", "ts": _iso(noon), "metric": "temperature", "value": None, "unit": "C"})
    valid = [r for r in readings if r["metric"] != "altitude" and r["value"] is not None]
    expected.sensor_readings_served = len(readings)
    expected.sensor_readings_quarantined_by_pull = len(readings) - len(valid)
    expected.sensor_readings_unique = len(valid)
    with_device = [v for v in range(fleet.vehicles) if v % 5 != 4]
    per_vehicle = len(valid) // fleet.vehicles
    expected.sensor_enrichment = {"CALIBRATED": per_vehicle * len(with_device), "NO_DEVICE_RECORD": per_vehicle * (fleet.vehicles - len(with_device))}
    (api / "sensor-readings.json").write_text(json.dumps(readings))

    registered = datetime.combine(fleet.start, datetime.min.time(), UTC) - timedelta(days=1)
    first_day = datetime.combine(fleet.start, datetime.min.time(), UTC)
    updates = [
        {"sensor_id": f"{fleet.vehicle(v)}-{kind}", "version": 1, "vehicle_id": fleet.vehicle(v), "sensor_type": kind,
         "calibration_offset": 0.0, "calibration_scale": 1.0, "updated_at": _iso(registered)}
        for v in with_device for kind in ("temp", "fuel")
    ]
    recalibrations = [(0, "temp", first_day + timedelta(hours=12, seconds=30)), (1, "fuel", first_day + timedelta(hours=10))]
    for v, kind, at in recalibrations:
        if v < fleet.vehicles and v in with_device:
            first = next(u for u in updates if u["sensor_id"] == f"{fleet.vehicle(v)}-{kind}")
            updates.append({**first, "version": 2, "calibration_offset": -1.5, "calibration_scale": 1.02,
                            "updated_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")})
    # The version each enriched reading must carry: the latest updated_at at or before its ts.
    versions: dict[str, int] = defaultdict(int)
    for r in valid:
        known = [u for u in updates if u["sensor_id"] == r["sensor_id"] and _parse_iso(u["updated_at"]) <= _parse_iso(r["ts"])]
        versions[str(max(u["version"] for u in known)) if known else "None"] += 1
    expected.sensor_device_versions = dict(versions)
    expected.device_update_records = len(updates)
    # The fleet team's operations that make these versions, for the registry command (npm run
    # registry -- apply --file): the fleet as it stands when DMS starts (its full load), then the
    # recalibrations (its CDC). The expectations above come from `updates`, not from the registry.
    streams.mkdir(parents=True, exist_ok=True)
    fleet_ops = [f"add-vehicle --vehicle {fleet.vehicle(v)} --at {_iso(registered)}" for v in with_device]
    fleet_ops += [f"mount-sensor --sensor {u['sensor_id']} --type {u['sensor_type']} --vehicle {u['vehicle_id']} --at {u['updated_at']}"
                  f" --scale {u['calibration_scale']} --offset {u['calibration_offset']}" for u in updates if u["version"] == 1]
    changes = [f"calibrate --sensor {u['sensor_id']} --version {u['version']} --scale {u['calibration_scale']} --offset {u['calibration_offset']} --at {u['updated_at']}"
               for u in updates if u["version"] > 1]
    (streams / REGISTRY_FLEET).write_text("# the fleet registered before the run (DMS's full load)\n" + "\n".join(fleet_ops) + "\n")
    (streams / REGISTRY_CHANGES).write_text("# the recalibrations during the run (DMS's CDC)\n" + "\n".join(changes) + "\n")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def sensor_pull_times(fleet: Fleet, every_minutes: int, window_minutes: int) -> list[str]:
    """The sensor pull's scheduled runs that cover the driving hours of every day."""
    times = []
    for day in fleet.day_list:
        first = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=DRIVING_START_HOUR, minutes=every_minutes)
        last = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=DRIVING_START_HOUR, minutes=READINGS_PER_DAY + window_minutes)
        t = first
        while t <= last:
            times.append(_iso(t))
            t += timedelta(minutes=every_minutes)
    return times


def weather_pull_times(fleet: Fleet) -> list[str]:
    """The weather pull's last run of each day: five past midnight pulls the whole day before."""
    return [_iso(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(minutes=5)) for day in fleet.day_list]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# The data each pull function's stand-in API serves and the times its schedule runs it, by function
# (lib/registry/pulls.ts): (fleet, the environment's names and settings, the API data folder).
PULL_INPUTS: dict[str, Callable[[Fleet, dict, Path], tuple[Path, list[str]]]] = {
    "weather-pull": lambda fleet, names, api: (api / "weather-answers.json", weather_pull_times(fleet)),
    "sensor-pull": lambda fleet, names, api: (
        api / "sensor-readings.json", sensor_pull_times(fleet, names["sensorPull"]["everyMinutes"], names["sensorPull"]["windowMinutes"])),
}
