"""Spark sessions: on Glue 5.1 (Iceberg through the Glue Data Catalog) and on local Spark for
tests and local runs (Iceberg through a Hadoop catalog in a folder). Both name the Iceberg catalog
`lake`, so jobs and tests address tables the same way: lake.<database>.<table>."""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

CATALOG = "lake"
JARS = Path(__file__).resolve().parents[1] / "target" / "jars"
ICEBERG_JAR = JARS / "iceberg-spark-runtime-3.5_2.12-1.10.0.jar"
# S3FileIO and the AWS SDK it uses; Glue provides them itself (`--datalake-formats iceberg`).
ICEBERG_AWS_JAR = JARS / "iceberg-aws-bundle-1.10.0.jar"

_COMMON = {
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
    f"spark.sql.catalog.{CATALOG}": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.session.timeZone": "UTC",
    # A value no pattern fits is null (and quarantined by the job), never a legacy-parser guess.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    # Iceberg format v2: row-level deletes make MERGE cheap.
    f"spark.sql.catalog.{CATALOG}.default-namespace": "default",
    # A cached frame keeps the partitioning it was computed with (Spark 3.5 lets AQE re-plan it and
    # then reports it as unknown): the telematics batch is cached after its deduplication, a window
    # by vehicle, and the intervals, a window by vehicle too, then reuse that shuffle (issue 17).
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "false",
    # No JSON read here has a filter to push down (every raw batch is read whole and cached first),
    # yet with pushdown on the parser asks an empty filter set about every field of every row
    # (issue 17, docs/decisions.md 151).
    "spark.sql.json.filterPushdown.enabled": "false",
    # Cached frames (every raw batch, the telematics readings after deduplication) are held without
    # the in-memory columnar compression: the telemetry's doubles barely compress (+20% memory at
    # 2M readings), and building the encoders cost about a tenth of the telematics job's time in
    # a warm JVM (in a fresh one the gain is within the noise: issue 17, docs/decisions.md 152).
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}


# How the Glue jobs' Iceberg catalog writes to S3. S3FileIO talks to S3 through the AWS SDK, not
# through EMRFS, so the Glue security configuration's S3 encryption does not apply to it. It is given
# no `s3.sse.*` property on purpose: a catalog-wide key would encrypt every zone's tables with one key
# (and `s3.sse.type=kms` without a key would fall back to aws/s3). With none, each object takes its
# bucket's default encryption, so processed tables carry the processed key and aggregated tables the
# aggregated key; each zone bucket's policy refuses a write that names another key (SecureBucket).
# glue-scripts/tests/test_zone_encryption.py writes through these settings to moto and checks it.
ICEBERG_S3_FILE_IO = {
    "io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
}


def glue_session(app_name: str, warehouse: str) -> SparkSession:
    """The session of a Glue job: Iceberg tables in the Glue Data Catalog, data in `warehouse` (s3://)."""
    builder = SparkSession.builder.appName(app_name)
    settings = {
        **_COMMON,
        f"spark.sql.catalog.{CATALOG}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"spark.sql.catalog.{CATALOG}.warehouse": warehouse,
        **{f"spark.sql.catalog.{CATALOG}.{key}": value for key, value in ICEBERG_S3_FILE_IO.items()},
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def local_session(app_name: str, warehouse: str, cores: int = 2, driver_memory: str | None = None) -> SparkSession:
    """Local Spark 3.5.6 with Iceberg 1.10.0 (the Glue 5.1 versions), bound to 127.0.0.1 only.
    `driver_memory` (e.g. "8g") sizes the one JVM that runs everything; Spark's default is 1g."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    for jar in (ICEBERG_JAR, ICEBERG_AWS_JAR):
        if not jar.exists():
            raise FileNotFoundError(f"{jar} is missing: run 'npm run setup' (scripts/setup.sh fetches it with Maven)")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(f"local[{cores}]")
        .config("spark.jars", f"{ICEBERG_JAR},{ICEBERG_AWS_JAR}")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config(f"spark.sql.catalog.{CATALOG}.type", "hadoop")
        # A URI, not a bare path: table locations then carry the file scheme, which Trino (Athena's
        # stand-in in the tests) needs to read the tables (tools/engines/local_trino.py).
        .config(f"spark.sql.catalog.{CATALOG}.warehouse", warehouse if "://" in warehouse else Path(warehouse).resolve().as_uri())
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    for key, value in _COMMON.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
