"""Managed Service for Apache Flink entry point (FLINK-1_20, Python).

Reads the runtime properties that CDK sets (property group "enrichment"), creates the Kinesis
sources (the readings; the device updates in DMS's envelope) and the Firehose sinks from the
dataset contracts, and runs the enrichment (enrichment/job.py, enrichment/sql.py). Connectors come from lib/connectors.jar in the application zip (pom.xml).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

from pyflink.table import StatementSet

from enrichment import job as enrichment_job

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
        # against their contract before they are put; device updates come from the registry,
        # whose constraints refuse what the contract does).
        "json.ignore-parse-errors": "false",
    }


def firehose_sink(delivery_stream: str, region: str) -> dict[str, str]:
    return {"connector": "firehose", "delivery-stream": delivery_stream, "aws.region": region, "format": "json", "json.timestamp-format.standard": "ISO-8601"}


def job(props: Mapping[str, str], jar: Path = CONNECTORS_JAR) -> StatementSet:
    """The job on Kinesis sources and Firehose sinks (enrichment/job.py), ready to execute."""
    region = props["aws.region"]
    env = enrichment_job.table_environment(int(props["state.ttl.hours"]), int(props["idle.timeout.seconds"]))
    env.get_config().set("pipeline.jars", jar.as_uri())
    enrichment_job.define_sources(
        env,
        kinesis_source(props["readings.stream"], region),
        kinesis_source(props["device-updates.stream"], region),
        int(props["readings.max-delay.seconds"]),
    )
    # Late readings and conflicting copies, with their reasons, go to the processed zone's quarantine.
    enrichment_job.define_sinks(env, firehose_sink(props["enriched.delivery-stream"], region), firehose_sink(props["rejected.delivery-stream"], region))
    return enrichment_job.statement_set(env)


def main() -> None:
    job(runtime_properties()).execute()


if __name__ == "__main__":
    main()
