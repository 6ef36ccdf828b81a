"""Reporting-year partitions: one partition per census collection (2020 = 1 April 2019 to 31 March 2020).

The partitions follow ``LAST_YEAR`` in ``cin_assets/census/calendar.py`` (bank holidays follow it too).
Adding a reporting year also needs its returns in ``census/<year>/``, its rows in the reference files (LA
codes and populations: ``reference.local_authorities`` refuses a year it does not know), and the code
location snapshot rewritten (``make snapshot``); see docs/deployment.md, "Adding a reporting year".
"""

import dagster as dg

from cin_assets.census.calendar import REPORTING_YEARS

reporting_year_partitions = dg.StaticPartitionsDefinition([str(y) for y in REPORTING_YEARS])


def partition_year(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> int:
    """The reporting year of the partition being materialised."""
    return int(context.partition_key)
