"""Reading children in need census returns into typed child-level polars tables (no Dagster here)."""
