"""The geography vocabulary: the codes and level names the project writes itself.

The LA and region codes come from the reference files (``cin_assets.reference``); England, the London
region and the EES geographic levels are written here once for the measures, disclosure control and
publishing.
"""

from __future__ import annotations

import polars as pl

ENGLAND_CODE, ENGLAND_NAME = "E92000001", "England"
LONDON_CODE = "E12000007"  # the ONS region
_LONDON_SUB_REGION = "E13"  # Inner (E13000001) and Outer London (E13000002): the region EES gives boroughs
# EES geographic_level values of the rows the project publishes
NATIONAL, REGIONAL, LOCAL = "National", "Regional", "Local authority"


def in_london_sub_region(region_code: pl.Expr) -> pl.Expr:
    """True for Inner and Outer London, which together make the London region ``LONDON_CODE``."""
    return region_code.str.starts_with(_LONDON_SUB_REGION)
