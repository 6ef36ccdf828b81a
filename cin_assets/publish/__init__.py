"""Data set descriptions, the EES writer, metadata, data guidance and the release ZIP (no Dagster)."""
