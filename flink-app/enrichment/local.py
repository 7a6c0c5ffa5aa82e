"""The enrichment on a local PyFlink mini cluster, with filesystem tables standing in for the
Kinesis sources and the Firehose sink: the job's own statements (sql.py), JSON lines in and out.
The tests and the local platform run (tools/local-run) both run it this way."""

from __future__ import annotations

from pyflink.table import EnvironmentSettings, TableEnvironment

from . import contracts, sql

FILES = {"connector": "filesystem", "format": "json", "json.timestamp-format.standard": "ISO-8601"}
# A watermark after every record, where Kinesis sources emit one periodically: a replayed file is
# read in a burst, and periodic watermarks would make which readings are late depend on timing.
SOURCE_FILES = {**FILES, "scan.watermark.emit.strategy": "on-event"}


def sources_on_files(
    readings_path: str,
    devices_path: str,
    *,
    readings_max_delay_seconds: int,
    device_updates_max_delay_seconds: int,
    state_ttl_hours: int = 24,
    idle_timeout_seconds: int = 5,
    parallelism: int = 1,
    watermark_every_record: bool = True,
) -> TableEnvironment:
    """A streaming table environment with the job's configuration, its two sources reading JSON
    lines from files, and its views: what stands before the job's INSERT. The benchmark emits
    watermarks periodically, as the Kinesis sources do (watermark_every_record=False)."""
    source_files = SOURCE_FILES if watermark_every_record else FILES
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    for key, value in sql.job_configuration(state_ttl_hours, idle_timeout_seconds).items():
        config.set(key, value)
    config.set("parallelism.default", str(parallelism))
    env.execute_sql(
        sql.source_table_ddl(sql.READINGS_TABLE, contracts.contract(contracts.READINGS), "ts", readings_max_delay_seconds, {**source_files, "path": readings_path})
    )
    env.execute_sql(
        sql.source_table_ddl(
            sql.DEVICES_TABLE,
            contracts.contract(contracts.DEVICE_UPDATES),
            "updated_at",
            device_updates_max_delay_seconds,
            {**source_files, "path": devices_path},
            versioned_by="sensor_id",
        )
    )
    for statement in sql.view_statements(readings_max_delay_seconds):
        env.execute_sql(statement)
    return env


def run_on_files(readings_path: str, devices_path: str, out_path: str, rejected_path: str, **settings: int) -> None:
    """Runs the job until its bounded sources end; the sinks commit JSON lines under out_path (the
    enriched readings) and rejected_path (late readings and conflicting copies, with reasons).
    One reader (parallelism 1, the default) keeps each file's order, which is the arrival order.
    settings: those of sources_on_files."""
    env = sources_on_files(readings_path, devices_path, **settings)
    env.execute_sql(sql.sink_table_ddl(sql.ENRICHED_TABLE, contracts.contract(contracts.ENRICHED), {**FILES, "path": out_path}))
    env.execute_sql(sql.rejected_table_ddl(sql.REJECTED_TABLE, contracts.contract(contracts.READINGS), {**FILES, "path": rejected_path}))
    statements = env.create_statement_set()
    for insert in sql.insert_statements():
        statements.add_insert_sql(insert)
    statements.execute().wait()
