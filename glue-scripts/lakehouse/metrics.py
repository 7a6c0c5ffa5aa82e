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


def attributed_intervals(intervals: DataFrame, shipments: DataFrame, weather: DataFrame, customer_versions: DataFrame) -> DataFrame:
    """Every interval with its outcome, and for those in the KPI: city, temp_range, weather_condition,
    customer_segment. Outcomes: the telematics interval_status when not ok (negative_delta,
    gap_over_15_min, first_reading), no_shipment, no_weather, or in_kpi.

    `customer_versions` holds every version of each customer (customer_id, segment, commit_ts, and
    Op where deletes are kept); the segment is the one valid at the interval's time
    (docs/decisions.md 46). A current-state table is the special case of one version each."""
    ok = intervals.where(F.col("interval_status") == INTERVAL_OK)
    s = shipments.select("shipment_id", F.col("vehicle_id").alias("s_vehicle_id"), "customer_id", "origin_city", "departed_at", "arrived_at")
    # An interval belongs to the shipment of the same vehicle with departed_at <= ts < arrived_at;
    # should two overlap, the one that departed last.
    matched = ok.join(s, (ok.vehicle_id == s.s_vehicle_id) & (s.departed_at <= ok.ts) & (ok.ts < s.arrived_at), "left")
    latest = Window.partitionBy("vehicle_id", "ts").orderBy(F.col("departed_at").desc_nulls_last())
    matched = matched.withColumn("_rn", F.row_number().over(latest)).where(F.col("_rn") == 1).drop("_rn", "s_vehicle_id")
    w = weather.where(~F.col("is_missing")).select(
        F.col("city").alias("w_city"), F.col("observation_hour").alias("w_hour"), "temp_range", F.col("condition").alias("weather_condition")
    )
    with_weather = matched.join(w, (matched.origin_city == w.w_city) & (F.date_trunc("hour", matched.ts) == w.w_hour), "left").drop("w_city", "w_hour")
    attributed = segment_at_interval_time(with_weather, customer_versions)
    outcome = F.when(F.col("shipment_id").isNull(), NO_SHIPMENT).when(F.col("temp_range").isNull(), NO_WEATHER).otherwise(IN_KPI)
    attributed = attributed.withColumn("outcome", outcome).withColumnRenamed("origin_city", "city")
    rejected = intervals.where(F.col("interval_status") != INTERVAL_OK).withColumn("outcome", F.col("interval_status"))
    return attributed.unionByName(rejected, allowMissingColumns=True)


def segment_at_interval_time(intervals: DataFrame, customer_versions: DataFrame) -> DataFrame:
    """customer_segment of each interval's customer as it was at the interval's time: the latest
    version committed at or before it; before the first known version, that first version (nothing
    earlier is known of the customer); null after a delete, and for a customer never seen."""
    deleted = (F.col("Op") == "D") if "Op" in customer_versions.columns else F.lit(False)
    v = customer_versions.select(
        F.col("customer_id").alias("_v_customer"), F.col("segment").alias("_v_segment"), F.col("commit_ts").alias("_v_from"), deleted.alias("_v_deleted")
    )
    joined = intervals.join(v, intervals.customer_id == v._v_customer, "left")
    applies = F.col("_v_from") <= F.col("ts")
    choice = Window.partitionBy("vehicle_id", "ts").orderBy(
        applies.desc_nulls_last(), F.when(applies, F.col("_v_from")).desc_nulls_last(), F.col("_v_from").asc_nulls_last()
    )
    chosen = joined.withColumn("_rn", F.row_number().over(choice)).where(F.col("_rn") == 1)
    return chosen.withColumn("customer_segment", F.when(~F.col("_v_deleted"), F.col("_v_segment"))).drop("_rn", "_v_customer", "_v_segment", "_v_from", "_v_deleted")


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
