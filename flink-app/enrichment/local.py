"""The enrichment on a local PyFlink mini cluster, with filesystem tables standing in for the
Kinesis sources and the Firehose sink: the job's own statements (sql.py), JSON lines in and out.
The tests and the local platform run (tools/local-run) both run it this way."""

from __future__ import annotations

from typing import Mapping

from pyflink.table import StreamTableEnvironment

from . import job

FILES = {"connector": "filesystem", "format": "json", "json.timestamp-format.standard": "ISO-8601"}
# A watermark after every record, where Kinesis sources emit one periodically: a replayed file is
# read in a burst, and periodic watermarks would make which readings are late depend on timing.
SOURCE_FILES = {**FILES, "scan.watermark.emit.strategy": "on-event"}


def sources_on_files(
    readings_path: str,
    devices_path: str,
    *,
    readings_max_delay_seconds: int,
    state_ttl_hours: int = 24,
    idle_timeout_seconds: int = 5,
    parallelism: int = 1,
    watermark_every_record: bool = True,
    source_options: Mapping[str, str] | None = None,
    configuration: Mapping[str, str] | None = None,
) -> StreamTableEnvironment:
    """A streaming table environment with the job's configuration, its two sources reading JSON
    lines from files (the device updates in DMS's envelope, as DMS puts them on their stream), and
    its views: what stands before the job's INSERT. The benchmark emits watermarks periodically,
    as the Kinesis sources do (watermark_every_record=False). source_options are added to both
    sources' (a watched folder: enrichment/restart.py); configuration, to the job's."""
    source_files = {**(SOURCE_FILES if watermark_every_record else FILES), **(source_options or {})}
    env = job.table_environment(state_ttl_hours, idle_timeout_seconds)
    config = env.get_config()
    config.set("parallelism.default", str(parallelism))
    for key, value in (configuration or {}).items():
        config.set(key, value)
    job.define_sources(
        env, {**source_files, "path": readings_path}, {**source_files, "path": devices_path}, readings_max_delay_seconds
    )
    return env


def run_on_files(readings_path: str, devices_path: str, out_path: str, rejected_path: str, **settings: int) -> None:
    """Runs the job until its bounded sources end; the sinks commit JSON lines under out_path (the
    enriched readings) and rejected_path (late readings and conflicting copies, with reasons).
    One reader (parallelism 1, the default) keeps each file's order, which is the arrival order.
    settings: those of sources_on_files."""
    env = sources_on_files(readings_path, devices_path, **settings)
    job.define_sinks(env, {**FILES, "path": out_path}, {**FILES, "path": rejected_path})
    job.statement_set(env).execute().wait()
