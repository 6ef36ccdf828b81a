"""Build unprotected frames the way the measures stage does (exact geography sums, percentages and rates
from unrounded counts), from LA-level or national counts, for hand-built data set descriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from cin_assets import reference
from cin_assets.datasets.description import LA_COLUMNS, NATIONAL_COLUMNS, DataSet, Indicator

ENGLAND = ("E92000001", "England")
LONDON = "E12000007"


def local_authorities(year: int = 2020, codes: Sequence[str] | None = None) -> pl.DataFrame:
    """Real LAs of ``year`` (optionally only ``codes``): old_la_code, new_la_code, la_name, region_code,
    region_name (EES region: Inner/Outer London for boroughs)."""
    las = reference.local_authorities(year).select(
        "old_la_code", "new_la_code", "la_name", "region_code", "region_name"
    )
    if codes is not None:
        las = las.filter(pl.col("old_la_code").is_in(list(codes)))
        missing = set(codes) - set(las.get_column("old_la_code").to_list())
        assert not missing, f"unknown LA codes {missing}"
    return las


def _derive(ds: DataSet, frame: pl.DataFrame, population: pl.Expr | None) -> pl.DataFrame:
    exprs = []
    for ind in ds.indicators:
        if ind.name in frame.columns:
            continue
        if ind.unit == "percent" and ind.numerator and ind.denominator:
            den = pl.col(ind.denominator)
            exprs.append(pl.when(den > 0).then(100 * pl.col(ind.numerator) / den).alias(ind.name))
        elif ind.unit == "rate" and ind.numerator:
            assert population is not None, "rates need populations"
            exprs.append((10_000 * pl.col(ind.numerator) / population).alias(ind.name))
        elif ind.unit == "population":
            assert population is not None
            exprs.append(population.cast(pl.Int64).alias(ind.name))
    return frame.with_columns(exprs) if exprs else frame


def _finish(ds: DataSet, frame: pl.DataFrame, year: int) -> pl.DataFrame:
    frame = frame.with_columns(
        pl.lit(str(year)).alias("time_period"),
        pl.lit("Reporting year").alias("time_identifier"),
        pl.lit(ENGLAND[0]).alias("country_code"),
        pl.lit(ENGLAND[1]).alias("country_name"),
    )
    if ds.category:
        frame = frame.with_columns(pl.lit(ds.category).alias("category"))
    types: dict[str, pl.DataType] = {}
    for c in ds.columns:
        types[c] = pl.String
    for ind in ds.indicators:
        types[ind.name] = pl.Int64 if ind.unit in ("count", "population") else pl.Float64
    for c in ds.columns:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=types[c]).alias(c))
    return frame.select(pl.col(c).cast(t) for c, t in types.items())


def la_frame(
    ds: DataSet,
    counts: pl.DataFrame,
    *,
    year: int = 2020,
    las: pl.DataFrame | None = None,
    populations: Mapping[str, int] | None = None,
    derived: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Unprotected frame of an LA-level data set from LA counts.

    ``counts``: ``old_la_code``, the data set's filter columns (if any) and its count columns (null =
    not available, left out of sums). ``populations``: geography code (E92000001 / region / old LA code)
    -> population, for rates. ``derived``: optional extra columns (e.g. days statistics) keyed like
    ``counts`` and by ``geo`` for the aggregate rows. Rows: England, regions (E12), Inner/Outer London
    (E13) that have LAs, then LAs, in EES order."""
    las = las if las is not None else local_authorities(year)
    filters = list(ds.filter_columns)
    filters = [f for f in filters if f != "category"]
    count_cols = [i.name for i in ds.counts()]
    la_rows = counts.join(las, on="old_la_code", how="inner").with_columns(
        pl.lit("Local authority").alias("geographic_level"), pl.col("old_la_code").alias("_geo")
    )
    la_rows = la_rows.with_columns(
        pl.when(pl.col("region_code").str.starts_with("E13"))
        .then(pl.lit(LONDON))
        .otherwise(pl.col("region_code"))
        .alias("_e12")
    )
    regions = reference.regions_table()
    sums = [pl.col(c).sum() for c in count_cols]  # nulls are left out of sums (not available)
    e13 = (
        la_rows.filter(pl.col("region_code").str.starts_with("E13"))
        .group_by("region_code", *filters)
        .agg(sums)
    )
    e12 = la_rows.group_by(pl.col("_e12").alias("region_code"), *filters).agg(sums)
    if filters:
        england = la_rows.group_by(*filters).agg(sums)
    else:
        england = (
            la_rows.select(sums) if sums else pl.DataFrame({"_one": [1]}).drop("_one").with_row_index("_i")
        )
    agg_rows = pl.concat(
        [
            england.with_columns(
                pl.lit("National").alias("geographic_level"), pl.lit(ENGLAND[0]).alias("_geo")
            ),
            pl.concat([e12, e13], how="vertical_relaxed")
            .join(regions, on="region_code")
            .with_columns(pl.lit("Regional").alias("geographic_level"), pl.col("region_code").alias("_geo")),
        ],
        how="diagonal_relaxed",
    )
    region_order = {c: i for i, c in enumerate(regions.get_column("region_code").to_list())}
    frame = pl.concat([agg_rows, la_rows.drop("_e12")], how="diagonal_relaxed").with_columns(
        pl.col("geographic_level")
        .replace_strict({"National": 0, "Regional": 1, "Local authority": 2})
        .alias("_lvl"),
        pl.col("region_code").replace_strict(region_order, default=99).alias("_reg"),
    )
    frame = frame.sort("_lvl", "_reg", "la_name", *filters, nulls_last=False)
    if derived is not None:
        frame = frame.join(derived, on=["_geo", *filters], how="left")
    population = None
    if populations is not None:
        population = pl.col("_geo").replace_strict(dict(populations), default=None, return_dtype=pl.Int64)
    frame = _derive(ds, frame, population)
    return _finish(ds, frame, year)


def national_frame(
    ds: DataSet,
    rows: pl.DataFrame,
    *,
    year: int = 2020,
    population: int | None = None,
) -> pl.DataFrame:
    """Unprotected frame of a national data set: ``rows`` holds the filter columns and counts as is."""
    frame = rows.with_columns(pl.lit("National").alias("geographic_level"))
    pop = pl.lit(population, dtype=pl.Int64) if population is not None else None
    return _finish(ds, _derive(ds, frame, pop), year)


def columns_of(ds: DataSet) -> tuple[str, ...]:
    """The EES geography columns of a data set."""
    return LA_COLUMNS if ds.geography == "la" else NATIONAL_COLUMNS


def publish_naively(
    ds: DataSet, frame: pl.DataFrame, suppressed: set[tuple[int, str]], *, base: int = 10, na: str = ":"
) -> pl.DataFrame:
    """Format an unprotected frame by hand with exactly the given (row, column) cells as ``c`` (and the
    percentages/rates of those counts): for crafting published patterns an attacker gets to see."""
    out = frame
    level = frame.get_column("geographic_level")
    for ind in ds.indicators:
        col = frame.get_column(ind.name)
        hidden = {r for r, c in suppressed if c == ind.name or c in ind.depends_on}
        values = []
        for row, (value, lvl) in enumerate(zip(col.to_list(), level.to_list(), strict=True)):
            if value is None:
                values.append(na)
            elif row in hidden:
                values.append("c")
            elif ind.unit == "count":
                rounded = (
                    ((2 * value + base) // (2 * base)) * base if lvl in ("National", "Regional") else value
                )
                values.append(str(rounded))
            elif ind.unit in ("percent", "rate"):
                values.append(str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)))
            else:
                values.append(str(int(value)))
        out = out.with_columns(pl.Series(ind.name, values, dtype=pl.String))
    return out


def la_dataset(code: str, counts: list[str], *, sums=(), extra=(), measure=None, relations=()) -> DataSet:
    """A hand-built LA-level data set of ``counts`` (plus ``extra`` indicators), 2013-2020, with its column
    ``sums`` and declared ``relations``; ``measure`` maps a count to the statistic it republishes."""
    inds = [Indicator(c, c, "count", "test", measure=(measure or {}).get(c)) for c in counts]
    return DataSet(
        code=code,
        stem=code.lower(),
        title=code,
        description="test",
        geography="la",
        first_year=2013,
        last_year=2020,
        indicators=(*inds, *extra),
        column_sums=sums,
        relations=relations,
    )


def frame_of(ds: DataSet, rows: Mapping[str, Mapping[str, int | None]], **kw) -> pl.DataFrame:
    """``ds``'s 2020 frame of the LAs in ``rows`` (LA code -> count per column)."""
    counts = pl.DataFrame([{"old_la_code": la, **values} for la, values in rows.items()])
    counts = counts.with_columns(pl.col(c).cast(pl.Int64) for c in counts.columns if c != "old_la_code")
    return la_frame(ds, counts, las=local_authorities(2020, list(rows)), **kw)


def row_of(frame: pl.DataFrame, la: str) -> int:
    """The row of ``la`` in ``frame``."""
    return frame.with_row_index("r").filter(pl.col("old_la_code") == la).get_column("r").item()
