"""The job's tables and statements, whatever its sources and sinks are: Kinesis and Firehose on
Managed Flink (main.py), files on the local mini cluster (enrichment/local.py).

The device updates arrive in DMS's envelope (the device_updates contract's raw.envelope), and
the temporal join needs them as a table versioned by sensor_id: a primary key on the rows and
their event time. Flink SQL declares a primary key only on a table's physical columns, and the
envelope's columns are fields of `data`. SQL's other way to a versioned view, a deduplication
keeping each sensor's latest row, would drop a version that arrives after a newer one, so the
readings between the two would get the wrong calibration. So the rows are handed through a
DataStream and back, declared with the primary key and the upstream watermarks: every version
is kept and applied from its own time, whatever order they arrive in (docs/decisions.md 113).
The round trip stays in the JVM (no Python function runs on a record).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pyflink.table import DataTypes, EnvironmentSettings, Schema, StatementSet, StreamTableEnvironment
from pyflink.datastream import StreamExecutionEnvironment

from . import contracts, sql

DATA_TYPES: dict[str, Callable[[], Any]] = {
    "string": DataTypes.STRING,
    "int": DataTypes.INT,
    "bigint": DataTypes.BIGINT,
    "double": DataTypes.DOUBLE,
    "boolean": DataTypes.BOOLEAN,
    "date": DataTypes.DATE,
    "timestamp": lambda: DataTypes.TIMESTAMP_LTZ(3),
}
DEVICE_KEY = "sensor_id"
DEVICE_TIME = "updated_at"


def table_environment(state_ttl_hours: int, idle_timeout_seconds: int) -> StreamTableEnvironment:
    """A streaming table environment with the job's configuration (a StreamTableEnvironment: the
    device versions pass through a DataStream)."""
    env = StreamTableEnvironment.create(StreamExecutionEnvironment.get_execution_environment(), EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    for key, value in sql.job_configuration(state_ttl_hours, idle_timeout_seconds).items():
        config.set(key, value)
    return env


def register_versioned_table(env: StreamTableEnvironment, name: str, rows_query: str, contract: Mapping[str, Any], key: str, time_column: str) -> None:
    """`rows_query`'s rows as table `name`, versioned by `key` at `time_column`, with the watermarks of its source."""
    schema = Schema.new_builder()
    for column in contract["columns"]:
        data_type = DATA_TYPES[column["type"]]()
        schema.column(column["name"], data_type.not_null() if column["name"] == key else data_type)
    schema.watermark(time_column, "SOURCE_WATERMARK()").primary_key(key)
    rows = env.to_data_stream(env.sql_query(rows_query))
    env.create_temporary_view(name, env.from_data_stream(rows, schema.build()))


def define_sources(
    env: StreamTableEnvironment,
    readings_options: Mapping[str, str],
    devices_options: Mapping[str, str],
    readings_max_delay_seconds: int,
) -> None:
    """The two sources (readings as the contract's rows; device updates in DMS's envelope), the
    versioned device table, and the views the INSERTs read. Readings are late by seconds; device
    updates may arrive in any order (enrichment/sql.py)."""
    devices = contracts.contract(contracts.DEVICE_UPDATES)
    env.execute_sql(sql.source_table_ddl(sql.READINGS_TABLE, contracts.contract(contracts.READINGS), "ts", readings_max_delay_seconds, readings_options))
    env.execute_sql(sql.envelope_source_ddl(sql.DEVICES_ENVELOPE_TABLE, devices, DEVICE_TIME, devices_options))
    register_versioned_table(env, sql.DEVICES_TABLE, sql.envelope_rows_query(sql.DEVICES_ENVELOPE_TABLE, devices, DEVICE_TIME), devices, DEVICE_KEY, DEVICE_TIME)
    for statement in sql.view_statements(readings_max_delay_seconds):
        env.execute_sql(statement)


def define_sinks(env: StreamTableEnvironment, enriched_options: Mapping[str, str], rejected_options: Mapping[str, str]) -> None:
    """The enriched readings, and the late readings and conflicting copies with their reasons."""
    env.execute_sql(sql.sink_table_ddl(sql.ENRICHED_TABLE, contracts.contract(contracts.ENRICHED), enriched_options))
    env.execute_sql(sql.rejected_table_ddl(sql.REJECTED_TABLE, contracts.contract(contracts.READINGS), rejected_options))


def statement_set(env: StreamTableEnvironment) -> StatementSet:
    """The job's two INSERTs as one statement set (one job, one graph)."""
    statements = env.create_statement_set()
    for insert in sql.insert_statements():
        statements.add_insert_sql(insert)
    return statements
