"""A batch's raw objects, read so that an object that cannot be read (a Parquet file cut short, a
GZIP object that ends before its trailer, a file that is not what its writer writes) is left out
with its reason instead of failing the whole day, and the rest of the day goes on.

The raw zone is the system of record and the jobs may not write it, so an unreadable object stays
where it is: it is listed under the quarantine with its reason (`<quarantine
root>/<dataset>/unreadable_objects/ingest_date=<day>/`, replaced on a rerun) and counted
(`unreadable_objects`, a published metric with an alarm). A later rerun of the day reads it again,
so a writer that delivers a whole copy, or an operator who replaces the object, needs nothing else.

Reading costs nothing extra while every object is readable: the batch's folders are read once and
materialised, nothing listed. Only when that read fails are the objects listed and tried in halves
to find the unreadable ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from pyspark.sql import DataFrame, SparkSession

# Reads a list of objects (full paths) of one batch as its writer's format.
Reader = Callable[[Sequence[str]], DataFrame]


@dataclass(frozen=True)
class Unreadable:
    object: str
    reason: str


class NothingReadable(RuntimeError):
    """Every object of the batch is unreadable: there is no batch to process."""


def hadoop_path(spark: SparkSession, text: str):
    """(the Hadoop FileSystem that holds `text`, its Path): file:// locally, S3 in Glue."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(text)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def list_objects(spark: SparkSession, raw_path: str) -> list[str]:
    """Every object under `raw_path`, in every subfolder, as Spark would read them (names starting
    with `_` or `.` left out, as Spark leaves them out); none when the folder does not exist."""
    fs, path = hadoop_path(spark, raw_path)
    if not fs.exists(path):
        return []
    objects = []
    listed = fs.listFiles(path, True)
    while listed.hasNext():
        p = listed.next().getPath()
        relative = p.toString()[len(fs.makeQualified(path).toString()):]
        if any(part.startswith(("_", ".")) for part in relative.split("/") if part):
            continue
        objects.append(p.toString())
    return sorted(objects)


def read_objects(objects: Sequence[str], read: Reader, failed: str | None = None) -> tuple[DataFrame, int, list[Unreadable]]:
    """The batch read and materialised (persisted and counted), its row count, and the objects left
    out because they cannot be read. Raises NothingReadable when none can. `failed`: why a read of
    these objects together already failed (they are then not read together again first)."""
    if failed is None:
        try:
            return (*materialised(read(objects)), [])
        except Exception as error:  # noqa: BLE001 - which objects failed is found below; a failure no object alone explains is raised again there
            failed = reason_of(error)
    readable, unreadable = _split(list(objects), read, failed)
    if not readable:
        raise NothingReadable("every raw object of the batch is unreadable: " + "; ".join(f"{u.object} ({u.reason})" for u in unreadable))
    return (*materialised(read(readable)), unreadable)


def materialised(df: DataFrame) -> tuple[DataFrame, int]:
    """`df` persisted, and its rows (the count that fills the cache is the run's `read` figure: the
    batch is not counted a second time; issue 17)."""
    df = df.persist()
    try:
        rows = df.count()  # reads every object: one that cannot be read fails here, not in a later step
    except Exception:
        df.unpersist()
        raise
    return df, rows


def _reads(objects: Sequence[str], read: Reader) -> str | None:
    """None when the objects read to the end; otherwise why not. The noop sink reads every column of
    every row in the JVM, so a corrupt page behind a good footer fails too, and nothing is kept."""
    try:
        read(objects).write.format("noop").mode("overwrite").save()
        return None
    except Exception as error:  # noqa: BLE001 - the reason is recorded, not swallowed
        return reason_of(error)


def _split(objects: list[str], read: Reader, why: str | None = None) -> tuple[list[str], list[Unreadable]]:
    """The objects in halves until each unreadable one stands alone: log2(n) reads per bad object.
    `why`: the reason these objects already failed to read together, if known (not read again)."""
    why = why or _reads(objects, read)
    if why is None:
        return objects, []
    if len(objects) == 1:
        return [], [Unreadable(objects[0], why)]
    half = len(objects) // 2
    left, right = _split(objects[:half], read), _split(objects[half:], read)
    return left[0] + right[0], left[1] + right[1]


def reason_of(error: BaseException) -> str:
    """The innermost cause of a Spark or Hadoop error, which says what is wrong with the bytes
    (EOFException: Unexpected end of input stream; ... is not a Parquet file)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    text = causes[-1] if causes else (lines[0] if lines else type(error).__name__)
    return text[:500]


def write_unreadable(spark: SparkSession, unreadable: Sequence[Unreadable], quarantine_root: str, dataset: str, ingest_date: str) -> int:
    """The unreadable objects under the quarantine with their reasons; a rerun of the date replaces
    the list (an object replaced since is then read, and no longer listed)."""
    target = f"{quarantine_root.rstrip('/')}/{dataset}/unreadable_objects/ingest_date={ingest_date}/"
    rows = [(u.object, [u.reason]) for u in unreadable]
    if not rows:
        # Nothing to list: an earlier run's list goes, without a Spark job to write an empty one
        # (every daily run of every source used to pay for that write; issue 17).
        remove_folder(spark, target)
        return 0
    spark.createDataFrame(rows, "object string, reasons array<string>").coalesce(1).write.mode("overwrite").json(target)
    return len(rows)


def remove_folder(spark: SparkSession, folder: str) -> None:
    """Deletes `folder` and what it holds, if it exists (a rerun's nothing replacing a run's something)."""
    fs, path = hadoop_path(spark, folder)
    if fs.exists(path):
        fs.delete(path, True)
