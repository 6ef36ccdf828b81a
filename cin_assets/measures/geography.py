"""Aggregate child-level rows to every published geography of a reporting year in one pass.

LA-level data sets publish one row for England, each of the 9 regions (E12), Inner and Outer London (E13,
as extra "Regional" rows) and every LA valid that year. Each unit row (an episode, a plan, ...) is tagged
with every geography it belongs to (its LA, its E12 region, Inner/Outer London for a London borough, and
England). Counts are additive (a unit belongs to one LA), so they are taken per LA and summed up the
hierarchy: a count at a region is the exact sum of its LAs. A median or quartile is computed from the
tagged unit rows of each geography (never from LA medians). Rows of an LA not valid in the year are dropped (the validation stage reports
them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from cin_assets import reference
from cin_assets.census.geography import ENGLAND_CODE, ENGLAND_NAME, LOCAL, NATIONAL, REGIONAL
from cin_assets.datasets.description import LA_COLUMNS, NATIONAL_COLUMNS, Geography

GEO = "_geo"
ORDER = "_order"
_PRESENT = "_unit_rows"


def geography_rows(year: int, level: Geography, ref: Path | None = None) -> pl.DataFrame:
    """The published geography rows of reporting ``year`` in file order.

    Columns: ``_geo`` (join key: ``E92000001``, the region code, or the LA's 3-digit code), ``_order``,
    ``geographic_level``, and for ``la`` the EES region and LA columns (null where not applicable).
    """
    england = pl.DataFrame(
        {GEO: [ENGLAND_CODE], "geographic_level": [NATIONAL]},
        schema={GEO: pl.String, "geographic_level": pl.String},
    )
    if level == "national":
        return england.with_row_index(ORDER)
    regions = reference.regions_table(ref).select(
        pl.col("region_code").alias(GEO),
        pl.lit(REGIONAL).alias("geographic_level"),
        "region_code",
        "region_name",
    )
    las = (
        reference.local_authorities(year, ref)
        .sort("ons_region_code", "la_name")
        .select(
            pl.col("old_la_code").alias(GEO),
            pl.lit(LOCAL).alias("geographic_level"),
            "region_code",
            "region_name",
            "old_la_code",
            "new_la_code",
            "la_name",
        )
    )
    return pl.concat([england, regions, las], how="diagonal").with_row_index(ORDER)


def la_memberships(year: int, ref: Path | None = None) -> pl.DataFrame:
    """``la_code`` -> ``_geo`` (list): every published geography an LA's rows count towards."""
    las = reference.local_authorities(year, ref)
    return las.select(
        pl.col("old_la_code").alias("la_code"),
        pl.concat_list(
            pl.col("old_la_code"),
            pl.col("ons_region_code"),
            pl.lit(ENGLAND_CODE),
            pl.when(pl.col("region_code") != pl.col("ons_region_code")).then(pl.col("region_code")),
        )
        .list.drop_nulls()
        .alias(GEO),
    )


def aggregate(
    units: pl.LazyFrame,
    aggs: Mapping[str, pl.Expr],
    year: int,
    level: Geography,
    *,
    counts: Mapping[str, tuple[pl.Expr, pl.Expr | None]] | None = None,
    zero_fill: Iterable[str] = (),
    ref: Path | None = None,
) -> pl.DataFrame:
    """Evaluate ``aggs`` and ``counts`` per published geography over the unit rows (which carry ``la_code``).

    ``aggs`` (medians, quartiles) run on each geography's own unit rows. ``counts`` (name -> count
    expression and, optionally, an availability expression) are additive, because every unit belongs to
    one LA: they are computed once per LA and summed up the hierarchy, so a million child rows are grouped
    once instead of once per geography they count towards; a count is available at a geography when it
    is available in any of its LAs' rows. Geographies without any unit row still get a row: the
    ``zero_fill`` columns are 0 there, the others null. Returns ``_geo``, ``_order``, the geography
    columns and one column per aggregation and count.
    """
    counts = counts or {}
    geos = geography_rows(year, level, ref)
    members = la_memberships(year, ref).lazy()
    if level == "national":
        members = members.with_columns(pl.lit([ENGLAND_CODE]).alias(GEO))
    # count name -> its availability flag column, for the counts that can be unavailable
    flag = {name: f"{name}\x1eavailable" for name, (_, available) in counts.items() if available is not None}
    per_la = units.group_by("la_code").agg(
        pl.len().alias(_PRESENT),
        *(count.alias(name) for name, (count, _) in counts.items()),
        *(
            available.fill_null(False).any().alias(flag[name])
            for name, (_, available) in counts.items()
            if available is not None
        ),
    )
    values = (
        per_la.join(members, on="la_code", how="inner")
        .explode(GEO)
        .group_by(GEO)
        .agg(
            pl.col(_PRESENT).sum(),
            *(pl.col(n).sum() for n in counts),
            *(pl.col(f).any() for f in flag.values()),
        )
        .with_columns(pl.when(pl.col(f)).then(pl.col(name)).alias(name) for name, f in flag.items())
        .drop(*flag.values())
    )
    if aggs:
        tagged = units.join(members, on="la_code", how="inner").explode(GEO)
        values = values.join(tagged.group_by(GEO).agg(**aggs), on=GEO, how="left")
    absent = pl.col(_PRESENT).is_null()
    fill = set(zero_fill)
    return (
        geos.join(values.collect(), on=GEO, how="left")
        .with_columns(
            pl.when(absent).then(0).otherwise(pl.col(c)).alias(c) for c in (*aggs, *counts) if c in fill
        )
        .drop(_PRESENT)
        .sort(ORDER)
    )


def ees_columns(frame: pl.DataFrame, year: int, level: Geography, time_identifier: str) -> pl.DataFrame:
    """Add the EES time and geography columns (strings, null where not applicable) in EES order."""
    columns = LA_COLUMNS if level == "la" else NATIONAL_COLUMNS
    filled = frame.with_columns(
        pl.lit(str(year)).alias("time_period"),
        pl.lit(time_identifier).alias("time_identifier"),
        pl.lit(ENGLAND_CODE).alias("country_code"),
        pl.lit(ENGLAND_NAME).alias("country_name"),
    )
    missing = [c for c in columns if c not in filled.columns]
    filled = filled.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    return filled.select(
        *(pl.col(c).cast(pl.String) for c in columns),
        *(c for c in filled.columns if c not in columns),
    )
