"""The Dagster shell: assets, checks, sensors and resources wiring the pure domain packages together."""
