"""A stand-in for DMS's full load and CDC from a PostgreSQL table to a Kinesis stream, for the
local run: it reads the table (DMS's full load, operation `load`) and then PostgreSQL's logical
replication of it through a slot (DMS's CDC, operation `insert`, `update` or `delete`), and
writes each row as DMS's Kinesis target does: one JSON record, `{"data": {column: value},
"metadata": {"timestamp", "record-type": "data", "operation", "partition-key-type",
"schema-name", "table-name"}}`, times as ISO 8601 in UTC (the envelope the device_updates
contract declares, raw.envelope).

What it does not stand in for: DMS's own plugin (pglogical or test_decoding; this reads
test_decoding's text through SQL, not the replication protocol), its control records, its
transaction details, its retries. The slot is made before the full load is read, so a change
committed in between is in both, as DMS applies cached changes after its load; the readers
take such a repeat as an exact copy (the Flink job's versioned table, the Glue job's counts).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import psycopg

# test_decoding's line for a row: `table schema.name: INSERT: col[type]:value col[type]:'text'`.
CHANGE = re.compile(r"^table (?P<schema>[^.]+)\.(?P<table>[^:]+): (?P<op>INSERT|UPDATE|DELETE): (?P<columns>.*)$")
COLUMN = re.compile(r"(?P<name>[a-z_][a-z0-9_]*)\[(?P<type>[^\]]+)\]:(?P<value>'(?:[^']|'')*'|\S+)")
INTEGERS = {"smallint", "integer", "bigint"}
FLOATS = {"double precision", "real", "numeric"}


def dms_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(schema: str, table: str, operation: str, row: dict[str, Any]) -> dict:
    """One row as DMS's Kinesis target writes it (the partition key, the object mapping's
    attribute, is the record's key on the stream, not a field of it)."""
    data = {name: dms_time(value) if isinstance(value, datetime) else value for name, value in row.items()}
    metadata = {
        "timestamp": dms_time(datetime.now(timezone.utc)),
        "record-type": "data",
        "operation": operation,
        "partition-key-type": "attribute-name",
        "schema-name": schema,
        "table-name": table,
    }
    return {"data": data, "metadata": metadata}


def _value(pg_type: str, text: str) -> Any:
    if text == "null":
        return None
    if text.startswith("'"):
        text = text[1:-1].replace("''", "'")
    if pg_type in INTEGERS:
        return int(text)
    if pg_type in FLOATS:
        return float(text)
    if pg_type == "timestamp with time zone":
        return datetime.fromisoformat(text)
    return text


class TableToKinesis:
    """DMS's replication of one table: create(), the slot; full_load(), the rows as `load`
    records; changes(), what was committed since, as insert, update and delete records."""

    def __init__(self, conn: psycopg.Connection, table: str, slot: str = "dms_stand_in"):
        self.conn, self.slot = conn, slot
        self.schema, self.table = table.split(".")
        # test_decoding writes times in the session's zone; UTC makes the offset +00.
        self.conn.execute("SET TIME ZONE 'UTC'")

    def create(self) -> None:
        self.conn.execute("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (self.slot,))
        self.conn.commit()

    def full_load(self) -> list[dict]:
        cursor = self.conn.execute(f'SELECT * FROM "{self.schema}"."{self.table}"')
        names = [c.name for c in cursor.description]
        rows = [record(self.schema, self.table, "load", dict(zip(names, values))) for values in cursor.fetchall()]
        self.conn.commit()
        return rows

    def changes(self) -> list[dict]:
        out = []
        for (line,) in self.conn.execute("SELECT data FROM pg_logical_slot_get_changes(%s, NULL, NULL)", (self.slot,)).fetchall():
            change = CHANGE.match(line)
            if not change or (change["schema"], change["table"]) != (self.schema, self.table):
                continue  # BEGIN, COMMIT, and the other tables DMS's table mapping leaves out
            row = {c["name"]: _value(c["type"], c["value"]) for c in COLUMN.finditer(change["columns"])}
            out.append(record(self.schema, self.table, change["op"].lower(), row))
        self.conn.commit()
        return out

    def drop(self) -> None:
        self.conn.execute("SELECT pg_drop_replication_slot(%s)", (self.slot,))
        self.conn.commit()


def lines(records: list[dict]) -> list[str]:
    return [json.dumps(r, separators=(",", ":")) for r in records]
