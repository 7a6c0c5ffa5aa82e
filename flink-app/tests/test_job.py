"""The production job, planned with the real connectors (lib/connectors.jar built by pom.xml).

Planning creates every table through its connector's factory, so a wrong option name, a primary
key the Kinesis source refuses, or a missing connector fails here; nothing contacts AWS.
"""

from __future__ import annotations

from pathlib import Path

import main as job

JAR = Path(__file__).resolve().parents[1] / "target" / "connectors.jar"
PROPS = {
    "aws.region": "eu-west-1",
    "readings.stream": "tlh-dev-sensor-readings",
    "device-updates.stream": "tlh-dev-device-updates",
    "enriched.delivery-stream": "tlh-dev-sensor-readings-enriched",
    "rejected.delivery-stream": "tlh-dev-sensor-readings-rejected",
    "readings.max-delay.seconds": "60",
    "state.ttl.hours": "24",
    "idle.timeout.seconds": "60",
}


def test_connectors_jar_is_built():
    assert JAR.exists(), f"{JAR} is missing: run 'npm run setup' (scripts/setup.sh builds it with Maven)"


def test_production_statements_plan_with_the_real_connectors():
    plan = job.job(PROPS, JAR).explain()
    assert "TableSourceScan(table=[[default_catalog, default_database, sensor_readings]]" in plan
    # arrivals counted per reading_id in arrival order, each emitted at once (no window holding
    # readings behind the watermark); only the rare conflicting copies are deduplicated apart
    assert "OverAggregate(partitionBy=[reading_id], orderBy=[arrival_time ASC]" in plan
    assert "Deduplicate(keep=[FirstRow], key=[reading_id, ts], order=[PROCTIME])" in plan
    assert "WindowDeduplicate" not in plan and "Join(joinType=[InnerJoin]" not in plan
    assert "CURRENT_WATERMARK(" in plan
    assert "TemporalJoin" in plan
    # the device updates: the rows of DMS's records (their Kinesis source was created through the
    # connector's factory when they were handed to the DataStream), back as a versioned table with
    # the source's watermarks; no deduplication drops a version that arrives after a newer one
    assert "anonymous_datastream_source$" in plan and "watermark=[SOURCE_WATERMARK()]" in plan
    assert "fields=[sensor_id, version, vehicle_id, sensor_type, calibration_offset, calibration_scale, updated_at]" in plan
    assert "Deduplicate(keep=[LastRow]" not in plan
    assert "Sink(table=[default_catalog.default_database.sensor_readings_enriched]" in plan
    assert "Sink(table=[default_catalog.default_database.sensor_readings_rejected]" in plan


def test_runtime_properties_are_read_from_the_managed_flink_file(tmp_path):
    path = tmp_path / "application_properties.json"
    path.write_text('[{"PropertyGroupId": "other", "PropertyMap": {}}, {"PropertyGroupId": "enrichment", "PropertyMap": {"a": "1"}}]')
    assert job.runtime_properties(str(path)) == {"a": "1"}
