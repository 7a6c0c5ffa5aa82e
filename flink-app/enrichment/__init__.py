"""Managed Flink enrichment of sensor readings: deduplicate Dataset A, join Dataset B, calibrate."""
