"""Children in need census returns to the 28 published data sets, as a Dagster asset graph."""
