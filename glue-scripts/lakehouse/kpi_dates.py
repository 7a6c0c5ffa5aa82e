"""Which metric dates a batch changed, so that the KPI is recomputed for every one of them.

Data arrives late and is corrected: a shipment's arrival in the next day's CDC batch, readings
uploaded the next morning, an origin city corrected two days later, a late weather hour, a
customer's new segment. Each source job therefore records, in one ledger table next to the
processed tables, what its batch changed in terms the aggregation can turn into metric dates:

- a metric date (telematics: the days whose intervals it recomputed; weather: the days of the hours
  it wrote; shipments: every day an old or new version of a changed shipment covers);
- or, for a customer, the customer and the time from which its change applies (the KPI's segment is
  the one valid at the interval's time, docs/decisions.md 46), which the aggregation resolves into
  the days that customer's shipments cover from then on.

The aggregation recomputes every recorded date within the lateness horizon, and counts and reports
the older ones, which stay in the ledger until a backfill recomputes them. The ledger is an append
from parallel source jobs (Iceberg commits appends without conflict) and a delete by the
aggregation of what it consumed, after its result is committed: a failure between the two leaves
the entries behind, and recomputing a date twice gives the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from .iceberg import ensure_table

TABLE_NAME = "kpi_changed_dates"
COLUMNS = [
    ("dataset", "string"),
    ("ingest_date", "string"),
    ("recorded_at", "timestamp"),
    ("metric_date", "date"),
    ("customer_id", "string"),
    ("changed_from", "timestamp"),
]
# A corrupt arrival years after the departure must not expand into thousands of dates; no
# shipment of this fleet lasts longer (a longer one is recomputed for its first year only).
MAX_SPAN_DAYS = 366


def ledger_table(processed_table: str) -> str:
    """The ledger lives in the processed tables' namespace: `lake.<db>.telematics` -> `lake.<db>.kpi_changed_dates`."""
    return f"{processed_table.rsplit('.', 1)[0]}.{TABLE_NAME}"


def ensure_ledger(spark: SparkSession, ledger: str) -> None:
    ensure_table(spark, ledger, COLUMNS)


def days_between(start: Column, end: Column) -> Column:
    """Every date from start's to end's (end null or before start: start's date only), as an array."""
    first = F.to_date(start)
    last = F.to_date(F.coalesce(end, start))
    last = F.least(F.greatest(last, first), F.date_add(first, MAX_SPAN_DAYS))
    return F.sequence(first, last)


def record(spark: SparkSession, ledger: str, changes: DataFrame, dataset: str, ingest_date: str) -> int:
    """Appends a batch's changes (columns metric_date, or customer_id and changed_from); returns how many."""
    ensure_ledger(spark, ledger)
    for name, sql_type in (("metric_date", "date"), ("customer_id", "string"), ("changed_from", "timestamp")):
        if name not in changes.columns:
            changes = changes.withColumn(name, F.lit(None).cast(sql_type))
    rows = (changes.select("metric_date", "customer_id", "changed_from").distinct()
            .withColumn("dataset", F.lit(dataset)).withColumn("ingest_date", F.lit(ingest_date))
            .withColumn("recorded_at", F.current_timestamp())
            .select(*[name for name, _ in COLUMNS])).persist()
    count = rows.count()  # computes the entries once, into the cache the append then reads
    if count:
        rows.writeTo(ledger).append()
    rows.unpersist()
    return count


def resolve(entries: DataFrame, shipments: DataFrame) -> DataFrame:
    """(metric_date, dataset) of every ledger entry: dates as they are; a customer's change as the
    days its shipments cover at or after `changed_from` (all of them when null: its first version)."""
    dated = entries.where(F.col("metric_date").isNotNull()).select("metric_date", "dataset")
    customers = entries.where(F.col("metric_date").isNull() & F.col("customer_id").isNotNull()).select("dataset", "customer_id", "changed_from")
    spans = shipments.select("customer_id", F.explode(days_between(F.col("departed_at"), F.col("arrived_at"))).alias("metric_date"))
    by_customer = customers.join(spans, "customer_id").where(
        F.col("changed_from").isNull() | (F.col("metric_date") >= F.to_date("changed_from"))
    ).select("metric_date", "dataset")
    return dated.unionByName(by_customer).distinct()


def date_range(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if end < start:
        raise ValueError(f"backfill range is inverted: {first} is after {last}")
    return [start + timedelta(days=d) for d in range((end - start).days + 1)]


def consume(spark: SparkSession, ledger: str, seen_until: datetime, recomputed: list[date], pending_kept: DataFrame) -> None:
    """After the KPI is committed: the entries read (recorded up to `seen_until`) leave the ledger,
    but for the dates not recomputed, which are written back as dated entries first (so a
    customer's change that reaches beyond the horizon stays, as the dates it still affects)."""
    kept = pending_kept.where(~F.col("metric_date").isin(recomputed)) if recomputed else pending_kept
    kept = (kept.withColumn("customer_id", F.lit(None).cast("string")).withColumn("changed_from", F.lit(None).cast("timestamp"))
            .withColumn("ingest_date", F.lit(None).cast("string")).withColumn("recorded_at", F.lit(seen_until))
            .select(*[name for name, _ in COLUMNS])).localCheckpoint()
    if kept.count():
        kept.writeTo(ledger).append()
    until = seen_until.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    # Written back just now with recorded_at = seen_until: excluded by the strict bound.
    spark.sql(f"DELETE FROM {ledger} WHERE recorded_at < TIMESTAMP '{until}'")
