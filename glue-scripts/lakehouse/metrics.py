"""telemetry_metrics, exactly as DESIGN.md defines it: fuel consumption per date, city,
temperature range, weather condition and customer segment, as a ratio of sums."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from .telematics import INTERVAL_OK

# What happened to each interval; every interval gets exactly one outcome.
IN_KPI = "in_kpi"
NO_SHIPMENT = "no_shipment"
NO_WEATHER = "no_weather"


# The most day pieces of shipment periods (period_days) sent whole to every task rather than
# shuffled with the intervals. A piece is four short strings (vehicle, shipment, customer, city),
# four timestamps and a date, on the order of 100 bytes as Spark holds it, so a broadcast stays
# within a few tens of MB.
# A daily run's pieces (the shipments over its few recomputed dates) are well below it; a backfill
# over months is above it, and its intervals are shuffled.
BROADCAST_PERIOD_DAYS = 200_000


def attributed_intervals(
    intervals: DataFrame, shipments: DataFrame, weather: DataFrame, customer_versions: DataFrame, broadcast_periods_up_to: int = BROADCAST_PERIOD_DAYS
) -> DataFrame:
    """Every interval with its outcome, and for those in the KPI: city, temp_range, weather_condition,
    customer_segment. Outcomes: the telematics interval_status when not ok (negative_delta,
    gap_over_15_min, first_reading), no_shipment, no_weather, or in_kpi.

    `customer_versions` holds every version of each customer (customer_id, segment, commit_ts, and
    Op where deletes are kept); the segment is the one valid at the interval's time
    (docs/decisions.md 46). A current-state table is the special case of one version each.

    The choices among shipments and among customer versions are made on those small tables, as
    periods that do not overlap (shipment_periods, segment_periods), so each interval meets at
    most one of each: no window over every interval (issue 17). An interval meets its vehicle's
    periods of its own day alone (period_days): joined on the vehicle alone, every interval was
    compared with every period of its vehicle, which grows with the days a run covers, and the
    intervals were shuffled and sorted for that join (docs/decisions.md 164). Called, it runs two
    small Spark jobs over the shipments (period_days); the intervals are read when the result is."""
    ok = intervals.where(F.col("interval_status") == INTERVAL_OK)
    s = period_days(shipment_periods(shipments), broadcast_periods_up_to)
    on_its_day = (ok.vehicle_id == s.s_vehicle_id) & (F.to_date(ok.ts) == s.s_day) & (s.period_from <= ok.ts) & (ok.ts < s.period_to)
    matched = ok.join(s, on_its_day, "left").drop("s_vehicle_id", "s_day", "period_from", "period_to")
    w = weather.where(~F.col("is_missing")).select(
        F.col("city").alias("w_city"), F.col("observation_hour").alias("w_hour"), "temp_range", F.col("condition").alias("weather_condition")
    )
    with_weather = matched.join(w, (matched.origin_city == w.w_city) & (F.date_trunc("hour", matched.ts) == w.w_hour), "left").drop("w_city", "w_hour")
    attributed = segment_at_interval_time(with_weather, customer_versions)
    outcome = F.when(F.col("shipment_id").isNull(), NO_SHIPMENT).when(F.col("temp_range").isNull(), NO_WEATHER).otherwise(IN_KPI)
    attributed = attributed.withColumn("outcome", outcome).withColumnRenamed("origin_city", "city")
    rejected = intervals.where(F.col("interval_status") != INTERVAL_OK).withColumn("outcome", F.col("interval_status"))
    return attributed.unionByName(rejected, allowMissingColumns=True)


def shipment_periods(shipments: DataFrame) -> DataFrame:
    """The shipment an interval of each vehicle belongs to, as periods that do not overlap: an
    interval at ts belongs to the shipment of its vehicle with departed_at <= ts < arrived_at;
    should two overlap, the one that departed last. Each vehicle's departures and arrivals cut its
    time into pieces; each piece goes to the covering shipment that departed last (none: no row).
    Columns: s_vehicle_id, period_from, period_to, shipment_id, customer_id, origin_city,
    departed_at, arrived_at."""
    s = shipments.where(F.col("departed_at").isNotNull() & F.col("arrived_at").isNotNull() & (F.col("departed_at") < F.col("arrived_at")))
    cuts = s.select("vehicle_id", F.col("departed_at").alias("cut")).unionByName(s.select("vehicle_id", F.col("arrived_at").alias("cut"))).distinct()
    pieces = cuts.withColumn("next_cut", F.lead("cut").over(Window.partitionBy("vehicle_id").orderBy("cut"))).where(F.col("next_cut").isNotNull())
    p = pieces.alias("p")
    covering = p.join(s.alias("s"), (F.col("s.vehicle_id") == F.col("p.vehicle_id")) & (F.col("s.departed_at") <= F.col("p.cut")) & (F.col("p.cut") < F.col("s.arrived_at")))
    latest = Window.partitionBy(F.col("p.vehicle_id"), F.col("p.cut")).orderBy(F.col("s.departed_at").desc(), F.col("s.shipment_id").desc())
    return (covering.withColumn("_rn", F.row_number().over(latest)).where("_rn = 1")
            .select(F.col("p.vehicle_id").alias("s_vehicle_id"), F.col("p.cut").alias("period_from"), F.col("p.next_cut").alias("period_to"),
                    "s.shipment_id", "s.customer_id", "s.origin_city", "s.departed_at", "s.arrived_at"))


def period_days(periods: DataFrame, broadcast_up_to: int) -> DataFrame:
    """Each shipment period once for every day it touches (`s_day`), so an interval is joined to
    its vehicle's periods on its own day: a handful, where the vehicle's periods over all the
    run's days were hundreds in a long backfill. A period that ends at midnight also lists that
    day, where it holds no interval (ts < period_to); the join's range condition decides.

    Broadcast when there are at most `broadcast_up_to` pieces, so the intervals are neither
    shuffled nor sorted for the join; above it the join shuffles both sides by (vehicle, day). The
    pieces are materialised once and counted: rows of the shipments, not of the intervals."""
    pieces = periods.withColumn("s_day", F.explode(F.sequence(F.to_date("period_from"), F.to_date("period_to")))).localCheckpoint()
    return F.broadcast(pieces) if pieces.count() <= broadcast_up_to else pieces


def segment_at_interval_time(intervals: DataFrame, customer_versions: DataFrame) -> DataFrame:
    """customer_segment of each interval's customer as it was at the interval's time: the latest
    version committed at or before it; before the first known version, that first version (nothing
    earlier is known of the customer); null after a delete, and for a customer never seen."""
    v = segment_periods(customer_versions)
    after_from = v._v_from.isNull() | (v._v_from <= intervals.ts)
    before_to = v._v_to.isNull() | (intervals.ts < v._v_to)
    joined = intervals.join(v, (intervals.customer_id == v._v_customer) & after_from & before_to, "left")
    return joined.withColumnRenamed("_v_segment", "customer_segment").drop("_v_customer", "_v_from", "_v_to")


def segment_periods(customer_versions: DataFrame) -> DataFrame:
    """Each customer's segment by period: a version from its commit_ts to the next version's (the
    first from the beginning of time, the last to the end), the segment null for a delete.
    Columns: _v_customer, _v_from (null: no start), _v_to (null: no end), _v_segment."""
    deleted = (F.col("Op") == "D") if "Op" in customer_versions.columns else F.lit(False)
    order = Window.partitionBy("customer_id").orderBy("commit_ts")
    return customer_versions.select(
        F.col("customer_id").alias("_v_customer"),
        F.when(F.lag("commit_ts").over(order).isNotNull(), F.col("commit_ts")).alias("_v_from"),
        F.lead("commit_ts").over(order).alias("_v_to"),
        F.when(~deleted, F.col("segment")).alias("_v_segment"),
    )


def telemetry_metrics(attributed: DataFrame) -> DataFrame:
    """Per (metric_date, city, temp_range, weather_condition, customer_segment): intervals,
    vehicles, distance_km, fuel_l and fuel_l_per_100km = 100 x sum(fuel_l) / sum(distance_km)."""
    kpi = attributed.where(F.col("outcome") == IN_KPI).withColumn("customer_segment", F.coalesce("customer_segment", F.lit("unknown")))
    return (
        kpi.groupBy(F.to_date("ts").alias("metric_date"), "city", "temp_range", "weather_condition", "customer_segment")
        .agg(
            F.count(F.lit(1)).alias("intervals"),
            F.countDistinct("vehicle_id").alias("vehicles"),
            F.sum("distance_km").alias("distance_km"),
            F.sum("fuel_l").alias("fuel_l"),
        )
        .withColumn("fuel_l_per_100km", F.when(F.col("distance_km") > 0, 100 * F.col("fuel_l") / F.col("distance_km")))
    )


def outcome_counts(attributed: DataFrame) -> dict[str, int]:
    """How many intervals had each outcome: the job logs and publishes these."""
    return {row["outcome"]: row["count"] for row in attributed.groupBy("outcome").count().collect()}
