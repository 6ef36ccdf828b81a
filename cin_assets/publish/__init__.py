"""The EES writer, metadata, data guidance and the release ZIP (no Dagster)."""
