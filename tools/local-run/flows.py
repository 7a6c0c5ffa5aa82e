"""The counts of a local run through the zones, typed: each dataset's counters are the fields of
`DatasetFlow`, so a misspelt counter fails where it is added instead of adding an empty column to
the report; the outcome tallies (intervals, enrichment statuses, device versions) are kept apart
from the datasets. `as_json` gives summary.json's `flows` in the shape report.py reads."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class DatasetFlow:
    """One dataset's counts; None where no step counted it (the report leaves the cell empty)."""
    raw_objects: int | None = None
    raw_rows: int | None = None
    raw_quarantined: int | None = None
    raw_unreadable_objects: int | None = None
    stream_records: int | None = None
    glue_read: int | None = None
    glue_quarantined: int | None = None
    # raw objects the job could not read, left out and listed under the quarantine with their reason
    glue_unreadable_objects: int | None = None
    duplicates_dropped: int | None = None
    late_rejected: int | None = None
    conflicting_rejected: int | None = None
    glue_written: int | None = None
    flink_written: int | None = None
    missing_hours: int | None = None
    rows_for_other_days: int | None = None
    # partner files over SFTP (lambda/partner-file-check): promoted into the raw zone, sent again, refused
    partner_files_promoted: int | None = None
    partner_files_repeated: int | None = None
    partner_files_rejected: int | None = None
    partner_records_promoted: int | None = None
    # the HTTPS ingestion API: records it put on the stream, and whole requests it refused
    api_records_accepted: int | None = None
    api_requests_refused: int | None = None
    # the Kafka topic (lambda/kafka-record-check through the Firehose stand-in): records delivered to the raw zone, and refused into the quarantine
    kafka_records_delivered: int | None = None
    kafka_records_refused: int | None = None

    def add(self, **counts: int) -> None:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(counts) - known)
        if unknown:
            raise KeyError(f"unknown flow counters {unknown}; known: {sorted(known)}")
        for name, value in counts.items():
            setattr(self, name, (getattr(self, name) or 0) + int(value))

    def count(self, name: str) -> int:
        """A counter's value, 0 where no step counted it."""
        return getattr(self, name) or 0


@dataclass
class Flows:
    datasets: dict[str, DatasetFlow] = field(default_factory=dict)
    # interval outcome -> count, over every KPI date as the latest aggregation left it
    interval_outcomes: dict[str, int] = field(default_factory=dict)
    # enrichment_status -> count, and device_version -> count, of the enriched readings
    sensor_enrichment: dict[str, int] = field(default_factory=dict)
    sensor_device_versions: dict[str, int] = field(default_factory=dict)

    def add(self, dataset: str, **counts: int) -> None:
        self.datasets.setdefault(dataset, DatasetFlow()).add(**counts)

    def of(self, dataset: str) -> DatasetFlow:
        """A dataset's counts (all None if no step has counted it yet)."""
        return self.datasets.get(dataset, DatasetFlow())

    def as_json(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {
            name: {f.name: getattr(flow, f.name) for f in fields(flow) if getattr(flow, f.name) is not None} for name, flow in self.datasets.items()
        }
        for key, tally in (("intervals", self.interval_outcomes), ("sensor_enrichment", self.sensor_enrichment), ("sensor_device_versions", self.sensor_device_versions)):
            if tally:
                out[key] = dict(tally)
        return out
