"""Managed Service for Apache Flink entry point (FLINK-1_20, Python).

Reads the runtime properties that CDK sets (property group "enrichment"), creates the Kinesis
source tables and the Firehose sink from the dataset contracts, and runs the enrichment
(enrichment/sql.py). Connectors come from lib/connectors.jar in the application zip (pom.xml).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

from pyflink.table import EnvironmentSettings, TableEnvironment

from enrichment import contracts, sql

# Where Managed Flink puts the application's runtime properties; overridable for local runs.
PROPERTIES_FILE = os.environ.get("FLINK_APPLICATION_PROPERTIES", "/etc/flink/application_properties.json")
PROPERTY_GROUP = "enrichment"
CONNECTORS_JAR = Path(__file__).resolve().parent / "lib" / "connectors.jar"


def runtime_properties(path: str = PROPERTIES_FILE) -> dict[str, str]:
    groups = json.loads(Path(path).read_text(encoding="utf-8"))
    for group in groups:
        if group["PropertyGroupId"] == PROPERTY_GROUP:
            return group["PropertyMap"]
    raise KeyError(f"property group {PROPERTY_GROUP} missing from {path}")


def kinesis_source(stream_name: str, region: str) -> dict[str, str]:
    return {
        "connector": "kinesis",
        "stream": stream_name,
        "aws.region": region,
        "scan.stream.initpos": "LATEST",
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
        # Never skip a record silently: one that does not parse fails the job, which restarts
        # from its last checkpoint and raises the downtime alarm (the readings are validated
        # against their contract before they are put; device updates come from the registry).
        "json.ignore-parse-errors": "false",
    }


def firehose_sink(delivery_stream: str, region: str) -> dict[str, str]:
    return {"connector": "firehose", "delivery-stream": delivery_stream, "aws.region": region, "format": "json", "json.timestamp-format.standard": "ISO-8601"}


def job_statements(props: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(sources, sinks and views; the INSERTs, which run together as one statement set)."""
    region = props["aws.region"]
    # Readings are late by seconds; device updates may arrive far out of order (enrichment/sql.py).
    return [
        sql.source_table_ddl(
            sql.READINGS_TABLE,
            contracts.contract(contracts.READINGS),
            "ts",
            int(props["readings.max-delay.seconds"]),
            kinesis_source(props["readings.stream"], region),
        ),
        sql.source_table_ddl(
            sql.DEVICES_TABLE,
            contracts.contract(contracts.DEVICE_UPDATES),
            "updated_at",
            int(props["device-updates.max-delay.seconds"]),
            kinesis_source(props["device-updates.stream"], region),
            versioned_by="sensor_id",
        ),
        sql.sink_table_ddl(sql.ENRICHED_TABLE, contracts.contract(contracts.ENRICHED), firehose_sink(props["enriched.delivery-stream"], region)),
        # Late readings and conflicting copies, with their reasons, to the processed zone's quarantine.
        sql.rejected_table_ddl(sql.REJECTED_TABLE, contracts.contract(contracts.READINGS), firehose_sink(props["rejected.delivery-stream"], region)),
        *sql.view_statements(int(props["readings.max-delay.seconds"])),
    ], sql.insert_statements()


def table_environment(props: Mapping[str, str], jar: Path = CONNECTORS_JAR) -> TableEnvironment:
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    for key, value in sql.job_configuration(int(props["state.ttl.hours"]), int(props["idle.timeout.seconds"])).items():
        config.set(key, value)
    config.set("pipeline.jars", jar.as_uri())
    return env


def main() -> None:
    props = runtime_properties()
    env = table_environment(props)
    setup, inserts = job_statements(props)
    for statement in setup:
        env.execute_sql(statement)
    statements = env.create_statement_set()
    for insert in inserts:
        statements.add_insert_sql(insert)
    statements.execute()


if __name__ == "__main__":
    main()
