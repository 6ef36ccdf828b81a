"""Reporting-year partitions: one partition per census collection (2020 = 1 April 2019 to 31 March 2020).

Adding a reporting year is one change: extend ``LAST_YEAR`` in ``cin_assets/census/calendar.py``
(and drop the new year's returns in ``census/<year>/``).
"""

import dagster as dg

from cin_assets.census.calendar import REPORTING_YEARS

reporting_year_partitions = dg.StaticPartitionsDefinition([str(y) for y in REPORTING_YEARS])


def partition_year(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> int:
    """The reporting year of the partition being materialised."""
    return int(context.partition_key)
