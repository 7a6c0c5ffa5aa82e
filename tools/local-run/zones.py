"""The local run's S3 and Kinesis (moto_server on 127.0.0.1) and its view of the raw zone's files:
start moto, create the buckets and streams, land and mirror objects, put and read stream records,
count what each dataset holds in the raw zone, and check a raw zone that a user supplies."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.config import Config

from lakehouse.contracts import contract_of, load_contracts, raw_day_path, raw_prefix

# Datasets the KPI cannot do without; customers, sensor readings and device updates may be absent.
REQUIRED_DATASETS = ("telematics", "shipments", "weather")
PUT_RECORDS_MAX = 500


@dataclass
class Moto:
    endpoint: str
    region: str
    process: subprocess.Popen

    @staticmethod
    def start(executable: Path, log_file: Path, region: str) -> "Moto":
        if not executable.exists():
            raise FileNotFoundError(f"{executable} is missing: run 'npm run setup' (scripts/setup.sh) to install moto[server] from requirements-dev.txt")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = open(log_file, "w", encoding="utf-8")
        process = subprocess.Popen([str(executable), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {process.returncode}; its log: {log_file}")
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"moto_server did not answer on {endpoint} within 30 s; its log: {log_file}")
                time.sleep(0.1)
        return Moto(endpoint, region, process)

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def create_buckets_and_streams(moto: Moto, names: dict[str, Any]) -> str:
    s3 = moto.client("s3")
    for bucket in names["buckets"].values():
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": names["region"]})
    kinesis = moto.client("kinesis")
    for stream in names["streams"].values():
        kinesis.create_stream(StreamName=stream, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    for stream in names["streams"].values():
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return f"{len(names['buckets'])} buckets, streams {', '.join(names['streams'].values())}"


def upload_tree(moto: Moto, bucket: str, folder: Path, key_prefix: str) -> tuple[int, int]:
    """Every file under folder, to key_prefix + its relative path; returns (objects, bytes)."""
    s3 = moto.client("s3")
    count = size = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, key_prefix + path.relative_to(folder).as_posix())
        count += 1
        size += path.stat().st_size
    return count, size


def download_bucket(moto: Moto, bucket: str, target: Path) -> tuple[int, int]:
    """Every object of the bucket to target/<key>: one GET each (boto3's download_file adds a HEAD
    and a transfer manager per object, which made this step 20 s for 900 small objects), eight at
    a time. Returns (objects, bytes)."""
    s3 = moto.client("s3")
    items = [item for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for item in page.get("Contents", [])]

    def fetch(item: dict) -> int:
        path = target / item["Key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        if len(body) != item["Size"]:
            raise RuntimeError(f"s3://{bucket}/{item['Key']}: {len(body)} bytes read, {item['Size']} listed")
        path.write_bytes(body)
        return len(body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        size = sum(pool.map(fetch, items))
    return len(items), size


def field(record: dict, path: str) -> Any:
    """A record's field by its dotted path (`data.sensor_id` in a DMS record); None if absent."""
    for name in path.split("."):
        record = record.get(name) if isinstance(record, dict) else None
    return record


def put_lines(moto: Moto, stream: str, lines: Sequence[str], key_field: str) -> None:
    """PutRecords in batches of 500; entries that fail are put again, and a batch that keeps
    failing raises (nothing is dropped quietly). key_field: the partition key's (dotted) path."""
    kinesis = moto.client("kinesis")
    for start in range(0, len(lines), PUT_RECORDS_MAX):
        pending = [{"Data": line.encode(), "PartitionKey": str(field(json.loads(line), key_field))} for line in lines[start:start + PUT_RECORDS_MAX]]
        for _ in range(5):
            result = kinesis.put_records(StreamName=stream, Records=pending)
            pending = [entry for entry, outcome in zip(pending, result["Records"]) if "ErrorCode" in outcome]
            if not pending:
                break
        if pending:
            raise RuntimeError(f"{len(pending)} records could not be put on {stream} after 5 attempts")


def land_stream_copy(moto: Moto, bucket: str, dataset: str, lines: Sequence[str], time_field: str, first_day: str) -> dict[str, int]:
    """A stream's raw copy as its Kinesis-sourced Firehose lands it: one GZIP object of NDJSON per
    arrival date, under the dataset's raw layout. The simulated records arrive when they were made
    (`time_field`); those made before the run's first day (a fleet registered beforehand) arrive on
    that day, so the first daily run takes them. Returns the records per arrival date."""
    contract = contract_of(load_contracts(), dataset)
    by_day: dict[str, list[str]] = {}
    for line in lines:
        made = str(field(json.loads(line), time_field) or "")[:10]
        # A record without a readable time arrives on the first day; its job quarantines it.
        by_day.setdefault(max(made, first_day) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", made) else first_day, []).append(line)
    s3 = moto.client("s3")
    for day, day_lines in by_day.items():
        body = gzip.compress("".join(f"{line}\n" for line in day_lines).encode())
        s3.put_object(Bucket=bucket, Key=f"{raw_day_path(contract, day)}{dataset}-local-firehose.gz", Body=body)
    return {day: len(day_lines) for day, day_lines in by_day.items()}


def replay_parquet(moto: Moto, stream: str, files: Iterable[Path], key_field: str) -> int:
    """Rows of raw Parquet files onto a stream as JSON, timestamps as ISO 8601 UTC."""
    count = 0
    for path in files:
        rows = pq.read_table(path).to_pylist()
        lines = [json.dumps({k: _json_value(v) for k, v in row.items()}) for row in rows]
        put_lines(moto, stream, lines, key_field)
        count += len(lines)
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def read_stream(moto: Moto, stream: str, target: Path) -> int:
    """Every record of every shard from the start, written as lines in arrival order across shards
    (the order the Flink source would meet them), so event-time watermarks advance as in AWS."""
    kinesis = moto.client("kinesis")
    records = []
    for index, shard in enumerate(kinesis.list_shards(StreamName=stream)["Shards"]):
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for r in page["Records"]:
                records.append((r["ApproximateArrivalTimestamp"], index, int(r["SequenceNumber"]), r["Data"]))
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    records.sort(key=lambda r: r[:3])
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for record in records:
            out.write(record[3].rstrip(b"\n") + b"\n")
    return len(records)


def _lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")) if folder.exists() else []


def raw_zone_counts(raw_zone: Path) -> dict[str, dict[str, int]]:
    """Rows of each dataset in the raw zone, and rows its writer quarantined there (the pulls)."""
    counts: dict[str, dict[str, int]] = {}
    for contract in load_contracts():
        if "raw" not in contract:
            continue
        files = _files(raw_zone / raw_prefix(contract))
        rows = unreadable = 0
        for path in files:
            try:
                rows += pq.ParquetFile(path).metadata.num_rows if contract["raw"]["format"] == "parquet" else _lines(path)
            except (OSError, EOFError, ValueError, pa.ArrowException):
                unreadable += 1  # counted, not fatal here: the job that reads it leaves it out and lists it with its reason
        quarantined = sum(_lines(p) for p in _files(raw_zone / f"raw/{contract['source']}/_quarantine/{contract['dataset']}"))
        counts[contract["dataset"]] = {"raw_objects": len(files), "raw_rows": rows, "raw_quarantined": quarantined}
        if unreadable:
            counts[contract["dataset"]]["raw_unreadable_objects"] = unreadable
    return counts


def quarantined_keys(raw_zone: Path, source: str, dataset: str, key: str) -> set[str]:
    """Distinct keys of the records a pull quarantined: overlapping windows quarantine a bad
    reading once per window that returns it."""
    keys = set()
    for path in _files(raw_zone / f"raw/{source}/_quarantine/{dataset}"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                keys.add(str(json.loads(line)["record"].get(key)))
    return keys


def weather_cities(raw_zone: Path) -> list[str]:
    cities = set()
    contract = next(c for c in load_contracts() if c["dataset"] == "weather")
    for path in _files(raw_zone / raw_prefix(contract)):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        city = json.loads(line).get("city")
                    except json.JSONDecodeError:
                        continue  # the weather job quarantines the line; it names no city
                    if city:
                        cities.add(city)
    return sorted(cities)


DAY = r"\d{4}-\d{2}-\d{2}"


# What a supplied stream file holds: streams/<file> -> the dataset contract of its records.
SUPPLIED_STREAMS = {"device_updates.ndjson": "device_updates"}
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
JSON_TYPES = {"string": (str,), "int": (int,), "bigint": (int,), "double": (int, float), "boolean": (bool,)}


def land_rejected_readings(source: Path, target: Path, name: str = "rejected.ndjson") -> dict[str, int]:
    """The Flink job's rejected readings, as the rejected-readings Firehose lands them (JSON lines
    under the quarantine, in file `name`); returns how many per reason kind ('late', 'conflicting copy')."""
    counts = {"late": 0, "conflicting copy": 0}
    lines = [line for f in _files(source) if not f.name.startswith(".") for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        kind = json.loads(line)["quarantine_reasons"][0].split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    if lines:
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return counts


def check_stream_lines(path: Path, contract: dict[str, Any], limit: int = 10) -> list[str]:
    """Problems of a supplied stream file against its contract, before anything runs: each line a
    JSON object (in the contract's envelope, if it has one: DMS's record), required fields present, every value of its column's type; timestamps as ISO-8601
    text with a zone (2026-11-21T10:00:00Z), the form the Flink job's JSON format reads. At most
    `limit` problems, then how many more lines break it."""
    problems: list[str] = []
    broken = 0
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        found = _record_problems(line, contract)
        if found:
            broken += 1
            if len(problems) < limit:
                problems += [f"{path.name} line {number}: {f}" for f in found]
    if broken > len(problems):
        problems.append(f"{path.name}: {broken} lines break the {contract['dataset']} contract in all")
    return problems


def _record_problems(line: str, contract: dict[str, Any]) -> list[str]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return [f"not JSON ({error.msg})"]
    if not isinstance(record, dict):
        return ["not a JSON object"]
    prefix = ""
    if "envelope" in contract.get("raw", {}):
        # DMS's record: a control record carries no row; a data record carries it in `data`.
        metadata = record.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("record-type") not in ("data", "control"):
            return ["not a DMS record: metadata.record-type must be data or control (contract raw.envelope)"]
        if metadata["record-type"] == "control":
            return []
        if not isinstance(record.get("data"), dict):
            return ["a DMS data record without its data object"]
        record, prefix = record["data"], "data."
    problems = []
    for column in contract["columns"]:
        name, value = prefix + column["name"], record.get(column["name"])
        if value is None:
            if column.get("required"):
                problems.append(f"{name}: required")
            continue
        if column["type"] == "timestamp":
            if isinstance(value, (int, float)):
                problems.append(f"{name}: {value} is a number; timestamps are ISO-8601 text with a zone, such as 2026-11-21T10:00:00Z (epoch milliseconds are not read)")
            elif not (isinstance(value, str) and ISO_TIMESTAMP.match(value) and _parses(value)):
                problems.append(f"{name}: {value!r} is not an ISO-8601 timestamp with a zone, such as 2026-11-21T10:00:00Z")
        elif column["type"] in JSON_TYPES and (not isinstance(value, JSON_TYPES[column["type"]]) or (isinstance(value, bool) and column["type"] != "boolean")):
            problems.append(f"{name}: {value!r} is not {column['type']}")
    return problems


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def check_supplied_raw(root: Path, required: Sequence[str] = REQUIRED_DATASETS) -> tuple[list[str], list[str]]:
    """(problems, days) of a user's raw zone: <root>/raw/<source>/<dataset>/<partitions>/<files>,
    laid out as each dataset's writer lays it out (see the contracts and the README), and of its
    stream files (<root>/streams/, each record checked against its contract). The days are those of
    every dataset's folders, each processed on its own day as the daily pipeline would."""
    if not root.is_dir():
        return [f"{root} is not a folder"], []
    if not (root / "raw").is_dir():
        return [f"{root} has no raw/ folder: supply the raw zone's keys under <dir>/raw/"], []
    problems: list[str] = []
    contracts = {raw_prefix(c): c for c in load_contracts() if "raw" in c}
    known = set(contracts)
    for source in sorted(p for p in (root / "raw").iterdir()):
        for dataset in sorted(p for p in source.iterdir()) if source.is_dir() else [source]:
            prefix = f"raw/{source.name}/{dataset.name}/"
            if prefix not in known and dataset.name != "_quarantine":
                problems.append(f"{prefix}: no dataset contract has this raw prefix (known: {', '.join(sorted(known))})")
    days: list[str] = []
    for prefix, contract in sorted(contracts.items()):
        files = _files(root / prefix)
        name = contract["dataset"]
        if not files:
            if name in required:
                problems.append(f"{prefix}: no files; {name} is required" + (" for the KPIs" if required == REQUIRED_DATASETS else ""))
            continue
        partitions = contract["raw"]["partitions"]
        values = contract["raw"].get("pathStyle", "hive") == "values"
        pattern = "/".join(
            (DAY if p["type"] == "date" else r"\d{2}") if values else f"{p['name']}=" + (DAY if p["type"] == "date" else r"\d{2}") for p in partitions
        )
        wrong = [f for f in files if not re.fullmatch(pattern, f.parent.relative_to(root / prefix).as_posix())]
        if wrong:
            example = "/".join((("yyyy-MM-dd" if p["type"] == "date" else "HH") if values else f"{p['name']}=" + ("yyyy-MM-dd" if p["type"] == "date" else "HH")) for p in partitions)
            problems.append(f"{prefix}: {len(wrong)} files outside {prefix}{example}/, e.g. {wrong[0].relative_to(root)}")
        suffixes = {".parquet"} if contract["raw"]["format"] == "parquet" else {".json", ".ndjson", ".gz", ".jsonl"}
        odd = [f for f in files if f.suffix not in suffixes]
        if odd:
            problems.append(f"{prefix}: {len(odd)} files are not {contract['raw']['format']} ({'/'.join(sorted(suffixes))}), e.g. {odd[0].relative_to(root)}")
        # Every source's days, not only the telemetry's: a DMS full load dated before the first
        # telemetry day, or a late batch dated after the last, is read on its own day.
        days += [m.group(0) for f in files if (m := re.search(DAY, f.relative_to(root / prefix).as_posix()))]
    streams = root / "streams"
    if streams.is_dir():
        by_name = {c["dataset"]: c for c in load_contracts()}
        for f in sorted(p for p in streams.iterdir()):
            if f.name not in SUPPLIED_STREAMS:
                problems.append(f"streams/{f.name}: not read (known: {', '.join(sorted(SUPPLIED_STREAMS))})")
            else:
                problems += [f"streams/{problem}" for problem in check_stream_lines(f, by_name[SUPPLIED_STREAMS[f.name]])]
    return problems, sorted(set(days))


def iceberg_tables(warehouse: Path) -> list[tuple[str, int]]:
    """(namespace.table, snapshots written) of a Hadoop-catalog warehouse."""
    if not warehouse.exists():
        return []
    return [
        (f"{m.parent.parent.name}.{m.parent.name}", len(list(m.glob("snap-*.avro"))))
        for m in sorted(warehouse.glob("*/*/metadata"))
    ]


def format_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], limit: int = 20) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return "" if v is None else str(v)

    shown = [[cell(v) for v in r] for r in rows[:limit]]
    widths = [max(len(c), *(len(r[i]) for r in shown)) if shown else len(c) for i, c in enumerate(columns)]
    numeric = [bool(rows) and isinstance(rows[0][i], (int, float)) for i in range(len(columns))]
    fmt = lambda values: "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric))  # noqa: E731
    lines = [f"{title} ({len(rows)} rows)", fmt(columns), "  ".join("-" * w for w in widths), *(fmt(r) for r in shown)]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows (all in the report)")
    return "\n".join(lines)
