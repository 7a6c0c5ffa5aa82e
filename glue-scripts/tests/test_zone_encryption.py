"""Each zone's Iceberg data is encrypted with its own zone's key (issue 16, finding 9).

The Glue jobs write Iceberg tables through the Glue Data Catalog and S3FileIO
(lakehouse.spark.ICEBERG_S3_FILE_IO), which the Glue security configuration does not reach. These
tests write through those same settings to moto_server on 127.0.0.1, whose Glue catalog and S3 are
real: two zone databases whose locations are two zone buckets, as the lakehouse stack declares them,
each bucket encrypted by default with a key of its own. They read back the key S3 recorded on every
object the writes made: data files, delete files, manifests and table metadata.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from moto_threaded import threaded_moto

from lakehouse.spark import ICEBERG_S3_FILE_IO

REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_zones():
    """moto_server with a processed and an aggregated bucket, each encrypted by default with a key of its own."""
    with threaded_moto() as endpoint:
        yield zones_in(endpoint)


def zones_in(endpoint: str) -> dict:
    session = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **session)
    kms = boto3.client("kms", **session)
    glue = boto3.client("glue", **session)
    zones = {}
    for zone in ("processed", "aggregated"):
        key_arn = kms.create_key(Description=f"{zone} zone")["KeyMetadata"]["Arn"]
        bucket = f"lake-{zone}-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, "BucketKeyEnabled": True}]
            },
        )
        # As the lakehouse stack declares each zone's database: its location is the zone's bucket.
        database = f"lake_{zone}_{uuid.uuid4().hex[:8]}"
        glue.create_database(DatabaseInput={"Name": database, "LocationUri": f"s3://{bucket}/{zone}/"})
        zones[zone] = {"bucket": bucket, "key": key_arn, "database": database}
    return {"endpoint": endpoint, "s3": s3, "zones": zones}


def register_catalog(spark, name: str, endpoint: str, extra: dict[str, str] | None = None) -> None:
    """The Glue jobs' Iceberg catalog (lakehouse.spark.glue_session), pointed at moto; Spark reads a
    catalog's settings from the session's conf when the catalog is first used."""
    # The AWS SDK of the catalog and S3FileIO finds credentials in the JVM's system properties.
    system = spark.sparkContext._jvm.java.lang.System
    system.setProperty("aws.accessKeyId", "testing")
    system.setProperty("aws.secretAccessKey", "testing")
    settings = {
        "": "org.apache.iceberg.spark.SparkCatalog",
        ".catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        **{f".{key}": value for key, value in ICEBERG_S3_FILE_IO.items()},
        # Only what points the catalog and S3FileIO at moto instead of AWS.
        ".glue.endpoint": endpoint,
        ".s3.endpoint": endpoint,
        ".s3.path-style-access": "true",
        ".client.region": REGION,
        **{f".{key}": value for key, value in (extra or {}).items()},
    }
    for suffix, value in settings.items():
        spark.conf.set(f"spark.sql.catalog.{name}{suffix}", value)


def write_both_zones(spark, catalog: str, zones: dict) -> None:
    """What the daily pipeline does to both zones, in one session: a table in each zone's database
    (located by the database, as the jobs' tables are), written, then merged into."""
    for zone, table in (("processed", "telematics"), ("aggregated", "telemetry_metrics")):
        name = f"{catalog}.{zones[zone]['database']}.{table}"
        spark.sql(f"CREATE TABLE {name} (vehicle_id string, value double) USING iceberg "
                  "TBLPROPERTIES ('format-version'='2', 'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')")
        spark.sql(f"INSERT INTO {name} VALUES ('v1', 1.0), ('v2', 2.0)")
        spark.sql(f"MERGE INTO {name} t USING (SELECT 'v1' AS vehicle_id, 3.0 AS value) s ON t.vehicle_id = s.vehicle_id "
                  "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")


def keys_by_object(s3, bucket: str) -> dict[str, tuple[str | None, str | None]]:
    """Every object of the bucket with the encryption S3 recorded for it: (algorithm, KMS key)."""
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            head = s3.head_object(Bucket=bucket, Key=item["Key"])
            objects[item["Key"]] = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
    return objects


def test_each_zone_is_encrypted_with_its_own_key(spark, s3_zones):
    register_catalog(spark, "glue_like", s3_zones["endpoint"])
    write_both_zones(spark, "glue_like", s3_zones["zones"])
    aggregated = s3_zones["zones"]["aggregated"]["database"]
    assert spark.sql(f"SELECT value FROM glue_like.{aggregated}.telemetry_metrics WHERE vehicle_id = 'v1'").collect()[0].value == 3.0
    for zone, spec in s3_zones["zones"].items():
        objects = keys_by_object(s3_zones["s3"], spec["bucket"])
        kinds = {key.rsplit(".", 1)[-1] for key in objects}
        # Data files, delete files of the merge, manifests and metadata: all of them, not only data.
        assert {"parquet", "avro", "json"} <= kinds, (zone, sorted(objects))
        wrong = {key: found for key, found in objects.items() if found != ("aws:kms", spec["key"])}
        assert wrong == {}, f"{zone} zone objects not under the {zone} key: {wrong}"


def test_a_catalog_wide_key_would_put_the_aggregated_zone_under_the_processed_key(spark, s3_zones):
    """The check above can fail: a catalog-wide `s3.sse.key` (the security configuration's one key)
    encrypts the aggregated zone's objects with the processed key, which the analysts cannot use."""
    zones = {zone: {**spec} for zone, spec in s3_zones["zones"].items()}
    register_catalog(spark, "one_key", s3_zones["endpoint"], {"s3.sse.type": "kms", "s3.sse.key": zones["processed"]["key"]})
    # A table of its own in the aggregated zone, so the first test's objects are not counted.
    spark.sql(f"CREATE TABLE one_key.{zones['aggregated']['database']}.one_key_metrics (vehicle_id string, value double) USING iceberg")
    spark.sql(f"INSERT INTO one_key.{zones['aggregated']['database']}.one_key_metrics VALUES ('v1', 1.0)")
    objects = {k: v for k, v in keys_by_object(s3_zones["s3"], zones["aggregated"]["bucket"]).items() if "/one_key_metrics/" in k}
    assert objects and all(found == ("aws:kms", zones["processed"]["key"]) for found in objects.values()), objects
