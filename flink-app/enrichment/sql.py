"""The enrichment as Flink SQL, built from the dataset contracts.

Pure functions that return SQL text: the Managed Flink entry point (main.py) runs them over
Kinesis sources and a Firehose sink; the tests run the very same query over filesystem sources.

Semantics
- Deduplication: one row per reading_id is kept, the first to arrive (in processing order), and
  later copies are dropped, late or not. It holds no reading back: the first arrival goes on at
  once. (A one-minute window deduplication used to hold a reading until its minute closed while
  passing the watermark on; the join then dropped the device version that a reading taken seconds
  before a recalibration needed: docs/decisions.md 54.) Its state lives for the state TTL.
- Late readings: a first arrival whose ts is behind the readings' watermark (more than
  readingsMaxDelaySeconds behind the newest reading seen) is not enriched: it goes to the rejected
  output with its reason, so it is counted and kept, never dropped silently nor taken for a copy.
  The split comes right after the deduplication, before anything that buffers, so every reading
  the join sees is ahead of the join's watermark.
- Copies with another ts: the same reading_id with a different ts is a conflicting copy. The first
  arrival is kept whatever its ts, as the sensor pull keeps it; each other ts of that reading_id
  goes to the rejected output once, naming the ts that was kept. One OVER aggregation per
  reading_id (arrival count and first ts, append-only) serves both the deduplication and this
  check; only the rare conflicting copies get a deduplication of their own.
- Join: each reading is joined with the version of its sensor's device record that was current
  at the reading's time (event-time temporal join against device_updates, the rows of DMS's
  records of registry.device_versions, declared a table versioned by sensor_id, each version
  valid from its updated_at: enrichment/job.py). Updates that arrive out of order are placed by their own time, so a
  late, older version never replaces a newer one. The join's clock is the readings' watermark
  (DEVICE_WATERMARK): while device updates arrive the join holds every reading, and after the
  idle timeout it goes on; an update applies to every reading the join has not yet emitted, so
  one that arrives after readings of its time were emitted applies to the later ones only. The
  output is append-only, as a Firehose sink requires.
- Latency: a reading is emitted once the watermarks of both streams pass its time; the device
  stream, mostly silent, is excluded from that after the idle timeout, so readings are not held
  back waiting for the next device update.
- No device record yet: the reading is still emitted, with enrichment_status 'NO_DEVICE_RECORD',
  the device columns and calibrated_value null, and raw_value kept, so nothing is dropped and a
  later batch job can re-enrich it.
- Calibration: calibrated_value = raw_value * calibration_scale + calibration_offset.
"""

from __future__ import annotations

from typing import Any, Mapping

FLINK_TYPES = {
    "string": "STRING",
    "int": "INT",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_LTZ(3)",
}

READINGS_TABLE = "sensor_readings"
DEVICES_TABLE = "device_updates"
# The device-updates stream as DMS writes it; DEVICES_TABLE is its rows, versioned (enrichment.job).
DEVICES_ENVELOPE_TABLE = "device_updates_dms"
ENRICHED_TABLE = "sensor_readings_enriched"


def _options(options: Mapping[str, str]) -> str:
    return ",\n  ".join(f"'{k}' = '{v}'" for k, v in options.items())


def interval(seconds: int) -> str:
    """An INTERVAL literal for `seconds` (HOUR TO SECOND: a plain SECOND literal stops at 99)."""
    if not 0 <= seconds < 100 * 3600:
        raise ValueError(f"interval of {seconds} s is outside 0 to 99:59:59")
    return f"INTERVAL '{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}' HOUR TO SECOND"


def columns_ddl(contract: Mapping[str, Any]) -> list[str]:
    return [f"`{c['name']}` {FLINK_TYPES[c['type']]}" for c in contract["columns"]]


def source_table_ddl(
    name: str,
    contract: Mapping[str, Any],
    time_column: str,
    watermark_delay_seconds: int,
    options: Mapping[str, str],
    versioned_by: str | None = None,
) -> str:
    """A source table with the contract's columns, a processing-time column and an event-time watermark.

    `versioned_by` declares the table versioned by that key (a primary key, not enforced): a
    temporal join then sees every version of a key at its own time, whatever order they arrived in.
    """
    columns = columns_ddl(contract) + [
        "`arrival_time` AS PROCTIME()",
        f"WATERMARK FOR `{time_column}` AS `{time_column}` - {interval(watermark_delay_seconds)}",
    ]
    if versioned_by:
        columns.append(f"PRIMARY KEY (`{versioned_by}`) NOT ENFORCED")
    return _table_ddl(name, columns, options)


def _table_ddl(name: str, columns: list[str], options: Mapping[str, str]) -> str:
    body = ",\n  ".join(columns)
    return f"CREATE TABLE `{name}` (\n  {body}\n) WITH (\n  {_options(options)}\n)"


# DMS's Kinesis record (the device_updates contract's raw.envelope): the row in `data`, what DMS
# did in `metadata`. The other metadata fields (timestamp, partition-key-type, transaction-id) are
# not read; the JSON format ignores fields a table does not declare.
ENVELOPE_METADATA = "`metadata` ROW<`record-type` STRING, `operation` STRING, `schema-name` STRING, `table-name` STRING>"


# The device stream's watermark: the epoch, always. The join's clock is the readings' watermark, and
# the device stream only holds it back while updates arrive (until the idle timeout after the last
# one). A watermark that followed updated_at would, once both streams are idle (between two sensor
# pulls, or after a restart), become the join's clock whenever it is ahead of the readings' (Flink
# takes the highest watermark of idle inputs), and the join would discard the versions older than
# the latest one before it: readings still to come from before a recalibration would lose theirs
# (docs/decisions.md 125; flink-app/tests/test_restart.py).
DEVICE_WATERMARK = "TO_TIMESTAMP_LTZ(0, 3)"


def envelope_source_ddl(name: str, contract: Mapping[str, Any], time_column: str, options: Mapping[str, str]) -> str:
    """A source of DMS records: `data` with the contract's columns, `metadata`, and the event time.

    The event time is the row's `time_column`. DMS's control records (a task's start, a table's
    DDL) have no `data`: they get the epoch, and the rows query leaves them out. A data record
    without its time still fails the job, as a record that does not parse does. The watermark is
    DEVICE_WATERMARK's."""
    data = ", ".join(columns_ddl(contract))
    columns = [
        f"`data` ROW<{data}>",
        ENVELOPE_METADATA,
        f"`{time_column}` AS CASE WHEN `metadata`.`record-type` = 'data' THEN `data`.`{time_column}` ELSE TO_TIMESTAMP_LTZ(0, 3) END",
        f"WATERMARK FOR `{time_column}` AS {DEVICE_WATERMARK}",
    ]
    return _table_ddl(name, columns, options)


def envelope_rows_query(envelope_table: str, contract: Mapping[str, Any], time_column: str) -> str:
    """The dataset's rows in a DMS envelope source: data records of the contract's source table
    whose operation it applies (an append-only history: load and insert), in the contract's
    column order, the event time as the time attribute. Control records are DMS's own. An update
    or delete of the history cannot happen (the registry refuses them); were one streamed, the
    stream would not apply it, and the raw zone's copy is quarantined, with its reason, by the
    daily job that reads it (glue-scripts lakehouse.keyed)."""
    envelope = contract["raw"]["envelope"]
    schema, table = envelope["sourceTable"].split(".")
    fields = ", ".join(f"`{time_column}`" if c["name"] == time_column else f"`data`.`{c['name']}` AS `{c['name']}`" for c in contract["columns"])
    operations = ", ".join(f"'{op}'" for op in envelope["applied"])
    return (
        f"SELECT {fields}\nFROM `{envelope_table}`\n"
        f"WHERE `metadata`.`record-type` = 'data' AND `metadata`.`schema-name` = '{schema}' AND `metadata`.`table-name` = '{table}'"
        f" AND `metadata`.`operation` IN ({operations})"
    )


def sink_table_ddl(name: str, contract: Mapping[str, Any], options: Mapping[str, str]) -> str:
    return _table_ddl(name, columns_ddl(contract), options)


REJECTED_TABLE = "sensor_readings_rejected"
# What the rejected output holds: the reading as it arrived, and every reason it was not enriched.
REJECTED_COLUMNS = ["reading_id", "sensor_id", "ts", "metric", "value", "unit"]


def rejected_table_ddl(name: str, readings_contract: Mapping[str, Any], options: Mapping[str, str]) -> str:
    """The rejected readings' sink: the reading's columns and its quarantine_reasons."""
    by_name = {c["name"]: c for c in readings_contract["columns"]}
    columns = [f"`{c}` {FLINK_TYPES[by_name[c]['type']]}" for c in REJECTED_COLUMNS] + ["`quarantine_reasons` ARRAY<STRING>"]
    return _table_ddl(name, columns, options)


# A reading's ts as epoch milliseconds (BIGINT), one-to-one with it, negative before 1970 included.
# FIRST_VALUE takes no timestamp type, and a number costs less to hold and compare than the ts as
# text: casting every arrival's ts to a string took about 2 of the job's 14 s at 1.5M readings
# (issue 17, docs/decisions.md 167).
EPOCH_MILLIS = "(EXTRACT(EPOCH FROM ts) * 1000 + EXTRACT(MILLISECOND FROM ts))"


def view_statements(readings_max_delay_seconds: int) -> list[str]:
    """The first arrival of each reading_id, split into on time and late; and the conflicting
    copies (another ts for a reading_id already seen)."""
    # ts as a plain value in what is rejected: the late readings are UNIONed with the conflicting
    # copies, whose ts their own deduplication materialises, and a union's time attributes must agree.
    columns = ", ".join("CAST(ts AS TIMESTAMP_LTZ(3)) AS ts" if c == "ts" else f"`{c}`" for c in REJECTED_COLUMNS)
    # Evaluated right after the deduplication, which holds nothing back: a reading that passes is
    # ahead of every watermark the join will see after it. A reading at the watermark still joins
    # right: the join keeps the version valid at the watermark.
    behind = "CURRENT_WATERMARK(ts) IS NOT NULL AND ts < CURRENT_WATERMARK(ts)"
    late_reason = f"late: ts is more than {readings_max_delay_seconds} s behind the newest reading seen (readingsMaxDelaySeconds)"
    return [
        # Each arrival with how many copies of its reading_id came before it (itself included) and
        # the ts of the first: one keyed state, emitted at once (an OVER aggregation is append-only).
        "CREATE TEMPORARY VIEW readings_arrivals AS\n"
        "SELECT *,\n"
        "  COUNT(*) OVER w AS arrival_number,\n"
        f"  FIRST_VALUE({EPOCH_MILLIS}) OVER w AS first_ts_ms\n"
        f"FROM `{READINGS_TABLE}`\n"
        "WINDOW w AS (PARTITION BY reading_id ORDER BY arrival_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        # A copy of a reading already seen is a duplicate, late or not; only a first arrival can be late.
        "CREATE TEMPORARY VIEW readings_first_arrival AS\n"
        "SELECT reading_id, sensor_id, ts, metric, `value`, unit FROM readings_arrivals WHERE arrival_number = 1",
        f"CREATE TEMPORARY VIEW readings_on_time AS\nSELECT * FROM readings_first_arrival WHERE NOT ({behind})",
        f"CREATE TEMPORARY VIEW readings_late AS\nSELECT {columns}, ARRAY['{late_reason}'] AS quarantine_reasons\nFROM readings_first_arrival WHERE {behind}",
        # Copies with another ts are rare: deduplicating only them, on (reading_id, ts), is cheap.
        f"CREATE TEMPORARY VIEW readings_conflicting AS\nSELECT {columns},\n"
        # The kept ts as text only in a rejection's reason: for the rare conflicting copies.
        "  ARRAY[CONCAT('conflicting copy: reading_id already seen with ts ', CAST(TO_TIMESTAMP_LTZ(first_ts_ms, 3) AS STRING))] AS quarantine_reasons FROM (\n"
        "  SELECT *, ROW_NUMBER() OVER (PARTITION BY reading_id, ts ORDER BY arrival_time ASC) AS row_num\n"
        f"  FROM readings_arrivals WHERE {EPOCH_MILLIS} <> first_ts_ms\n"
        ") WHERE row_num = 1",
    ]


ENRICHMENT_QUERY = f"""SELECT
  r.reading_id,
  r.sensor_id,
  d.vehicle_id,
  d.sensor_type,
  r.ts,
  r.metric,
  r.`value` AS raw_value,
  r.unit,
  r.`value` * d.calibration_scale + d.calibration_offset AS calibrated_value,
  d.version AS device_version,
  CASE WHEN d.sensor_id IS NULL THEN 'NO_DEVICE_RECORD' ELSE 'CALIBRATED' END AS enrichment_status
FROM readings_on_time AS r
LEFT JOIN `{DEVICES_TABLE}` FOR SYSTEM_TIME AS OF r.ts AS d
  ON r.sensor_id = d.sensor_id"""


def insert_statements(sink: str = ENRICHED_TABLE, rejected: str = REJECTED_TABLE) -> list[str]:
    """The job's two INSERTs, run together as one statement set (one job, one graph)."""
    return [
        f"INSERT INTO `{sink}`\n{ENRICHMENT_QUERY}",
        f"INSERT INTO `{rejected}`\nSELECT * FROM readings_late UNION ALL SELECT * FROM readings_conflicting",
    ]


def job_configuration(state_ttl_hours: int, idle_timeout_seconds: int) -> dict[str, str]:
    """Table options of the job.

    - state TTL: how long keyed state of the join is kept for a key that sees no more records;
    - idle timeout: a shard or stream that sends nothing (device updates are rare) must not hold
      the watermark back, or readings would wait for the next device update to be emitted;
    - object reuse: records are handed on without copies (bench/flink_sql.py).
    """
    return {
        "table.exec.state.ttl": f"{state_ttl_hours} h",
        "table.exec.source.idle-timeout": f"{idle_timeout_seconds} s",
        "table.local-time-zone": "UTC",
        # Operators hand records on without copying them; no operator of this job keeps a reference.
        "pipeline.object-reuse": "true",
    }
