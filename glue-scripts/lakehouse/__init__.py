"""Telemetry lakehouse: the shared Python package of the Glue jobs (transformations, contracts)."""
