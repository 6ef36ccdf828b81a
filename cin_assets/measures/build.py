"""Build any data set's unprotected frame for one reporting year from its description.

There is no per-data-set code: the :class:`~cin_assets.datasets.description.DataSet` says which unit table
each count or statistic is taken over and with which filter (its :class:`Count`/:class:`Statistic` rule),
which rows a data set with filters has (:class:`Row`), and which England figures a national summary
republishes (:class:`Republished`). This module evaluates those rules per geography, then derives the
percentages (from the row's counts) and rates (per 10,000 of the ONS 0-17 population of mid-year ``Y-1``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
from polars._typing import PolarsDataType

from cin_assets import reference
from cin_assets.census.geography import ENGLAND_CODE, LOCAL, NATIONAL, REGIONAL
from cin_assets.datasets.description import Count, DataSet, Indicator, Row, Statistic
from cin_assets.measures.geography import GEO, ORDER, aggregate, ees_columns, geography_rows, la_memberships
from cin_assets.measures.units import CHILD, UNITS, Context, Tables

_ROW = "_row_number"
_ALL = Row(values={}, where=pl.lit(True))


@dataclass(frozen=True)
class Requirements:
    """What a data set's yearly frame is built from."""

    staging: tuple[str, ...]  # this year's staging tables
    previous: tuple[str, ...]  # the previous year's staging tables (look-back measures)
    sources: tuple[str, ...]  # other data sets' frames of the same year (national summaries)


def _ruled(ds: DataSet) -> tuple[Indicator, ...]:
    return tuple(i for i in ds.indicators if i.rule is not None)


def _roots(expr: pl.Expr | None) -> set[str]:
    return set() if expr is None else set(expr.meta.root_names())


def unit_columns(ds: DataSet) -> dict[str, set[str]]:
    """Unit table -> the columns the data set's rules and rows read from it."""
    out: dict[str, set[str]] = {}
    rows = _roots(pl.all_horizontal(r.where for r in ds.rows)) if ds.rows else set()
    for ind in _ruled(ds):
        rule = ind.rule
        assert rule is not None  # _ruled keeps the indicators that have a rule
        cols = out.setdefault(rule.table, set(rows))
        cols |= _roots(rule.where)
        if isinstance(rule, Count):
            cols |= _roots(rule.available)
        else:
            cols |= _roots(rule.value)
    return out


def requirements(ds: DataSet) -> Requirements:
    """The staging tables (this and last year) and data sets ``ds`` is built from."""
    current: set[str] = set()
    previous: set[str] = set()
    for table, cols in unit_columns(ds).items():
        now, before = UNITS[table].inputs(cols)
        current |= now
        previous |= before
    sources = tuple(dict.fromkeys(r.source for r in ds.summary))
    return Requirements(tuple(sorted(current)), tuple(sorted(previous)), sources)


def schema(ds: DataSet) -> dict[str, PolarsDataType]:
    """Column types of the data set's unprotected frame."""
    types: dict[str, PolarsDataType] = {c: pl.String for c in (*ds.geography_columns, *ds.filter_columns)}
    for ind in ds.indicators:
        types[ind.name] = pl.Int64 if ind.unit in ("count", "population") else pl.Float64
    return types


def empty(ds: DataSet) -> pl.DataFrame:
    return pl.DataFrame(schema=schema(ds))


def build(
    ds: DataSet,
    year: int,
    tables: Tables | None = None,
    previous: Tables | None = None,
    sources: Mapping[str, pl.DataFrame] | None = None,
    ref: Path | None = None,
) -> pl.DataFrame:
    """The unprotected frame of data set ``ds`` for reporting ``year``.

    ``tables``: this year's staging tables by name (``cin_assets.census.tables``); ``previous``: last
    year's (only read by look-back measures; ``None`` when there is no earlier census); ``sources``: the
    frames of the data sets a national summary republishes; ``ref``: the reference folder. Outside the
    data set's years the frame is empty.
    """
    return _build(ds, Context(year, tables or {}, previous), sources or {}, ref)


def _build(ds: DataSet, ctx: Context, sources: Mapping[str, pl.DataFrame], ref: Path | None) -> pl.DataFrame:
    year = ctx.year
    if not ds.first_year <= year <= ds.last_year:
        return empty(ds)
    frame = _summary(ds, year, sources, ref) if ds.summary else _aggregate(ds, ctx, ref)
    frame = withhold(ds, _derive(ds, year, frame, ref), ctx.counted, year, ref)
    frame = ees_columns(frame, year + ds.period_offset, ds.geography, ds.time_identifier)
    if ds.category:
        frame = frame.with_columns(pl.lit(ds.category).alias("category"))
    types = schema(ds)
    return frame.sort(ORDER, _ROW).select(pl.col(c).cast(t) for c, t in types.items())


def build_all(
    datasets: Mapping[str, DataSet],
    year: int,
    tables: Tables,
    previous: Tables | None = None,
    sources: Mapping[str, pl.DataFrame] | None = None,
    ref: Path | None = None,
    counted: Collection[str] | None = None,
    carried: Context | None = None,
    own_return: Collection[str] = (),
) -> dict[str, pl.DataFrame]:
    """:func:`build` for several data sets of one year, sharing each unit table between them.

    Many data sets count the same units (episodes with child characteristics, say), so each unit table is
    built once per year instead of once per data set. National summaries come last and read the frames
    built here, or ``sources`` for the data sets not in ``datasets``. ``counted``: the LAs whose returns
    are counted (default: every LA); every other LA's own rows are not available, never 0 (no usable
    return, a declared exception or the validation policy). ``carried``: an
    earlier year's tables of LAs declared ``carry_forward``, whose units enter the England and regional
    figures (counted under that year's definitions, as DfE did for Hackney). Counted LAs with no
    look-back (``cin_assets.census.lookback``) add referrals but no re-referrals to England and the
    regions, so those re-referral percentages understate, as in DfE's releases. ``own_return``: the LAs
    whose re-referrals look back only on their own referrals of the year (a successor's first year, as
    DfE counted it).
    """
    if carried is not None:
        carried = replace(carried, units={})
    counted = None if counted is None else frozenset(counted)
    ctx = Context(
        year, tables, previous, units={}, counted=counted, carried=carried, own_return=frozenset(own_return)
    )
    frames: dict[str, pl.DataFrame] = {}
    for code in sorted(datasets, key=lambda c: bool(datasets[c].summary)):
        frames[code] = _build(datasets[code], ctx, {**(sources or {}), **frames}, ref)
    return frames


def _agg(rule: Statistic, row: Row) -> pl.Expr:
    where = (rule.where & row.where).fill_null(False)
    return rule.value.filter(where).cast(pl.Float64).quantile(rule.quantile, interpolation="linear")


def _count(rule: Count, row: Row) -> tuple[pl.Expr, pl.Expr | None]:
    """The count in one LA's unit rows and, if it can be unavailable, the availability there."""
    where = (rule.where & row.where).fill_null(False)
    value = pl.struct(CHILD).filter(where).n_unique() if rule.children else where.sum()
    return value.cast(pl.Int64), rule.available


def _key(name: str, row: int) -> str:
    return f"{name}\x1f{row}"


def _aggregate(ds: DataSet, ctx: Context, ref: Path | None) -> pl.DataFrame:
    rows = ds.rows or (_ALL,)
    result = geography_rows(ctx.year, ds.geography, ref)
    ruled = _ruled(ds)
    for table, cols in unit_columns(ds).items():
        units = UNITS[table].build(ctx, cols)
        if ctx.carried is not None:
            carried = UNITS[table].build(ctx.carried, cols)
            units = pl.concat([units, carried.select(units.collect_schema().names())], how="vertical_relaxed")
        inds = [i for i in ruled if i.rule is not None and i.rule.table == table]
        keyed = [(_key(i.name, r), i.rule, row) for r, row in enumerate(rows) for i in inds]
        aggs = {k: _agg(rule, row) for k, rule, row in keyed if isinstance(rule, Statistic)}
        counts = {k: _count(rule, row) for k, rule, row in keyed if isinstance(rule, Count)}
        # a geography without unit rows counts 0, unless the count needs an availability it cannot show
        zero = [k for k, (_, available) in counts.items() if available is None]
        values = aggregate(units, aggs, ctx.year, ds.geography, counts=counts, zero_fill=zero, ref=ref)
        result = result.join(values.select(GEO, *aggs, *counts), on=GEO, how="left")
    parts = []
    for r, row in enumerate(rows):
        parts.append(
            result.select(
                *(c for c in result.columns if "\x1f" not in c),
                *(pl.col(_key(i.name, r)).alias(i.name) for i in ruled),
                *(pl.lit(v).alias(k) for k, v in row.values.items()),
                pl.lit(r).alias(_ROW),
            )
        )
    return pl.concat(parts, how="vertical")


def withhold(
    ds: DataSet,
    frame: pl.DataFrame,
    counted: Collection[str] | None,
    year: int,
    ref: Path | None = None,
) -> pl.DataFrame:
    """``frame`` with every figure of an LA not ``counted`` null (published as not available, never 0),
    and the rates of England and the regions holding such an LA null too: their population includes
    children the counts do not cover."""
    if counted is None:
        return frame
    members = la_memberships(year, ref).filter(~pl.col("la_code").is_in(sorted(counted)))
    partial = members.get_column(GEO).explode().unique().to_list()
    out = frame
    if "old_la_code" in frame.columns:
        other = ~pl.col("old_la_code").is_in(sorted(counted)) & (pl.col("geographic_level") == LOCAL)
        out = out.with_columns(pl.when(~other).then(pl.col(i.name)).alias(i.name) for i in ds.indicators)
    rates = [i.name for i in ds.indicators if i.unit == "rate"]
    if rates and partial:
        out = out.with_columns(pl.when(~pl.col(GEO).is_in(partial)).then(pl.col(r)).alias(r) for r in rates)
    return out


def _population(year: int, ref: Path | None) -> pl.DataFrame:
    """ONS 0-17 population used for reporting ``year``'s rates, keyed like the geography rows."""
    pop = reference.populations(year, ref)
    key = (
        pl.when(pl.col("geographic_level") == NATIONAL)
        .then(pl.lit(ENGLAND_CODE))
        .when(pl.col("geographic_level") == REGIONAL)
        .then(pl.col("region_code"))
        .otherwise(pl.col("old_la_code"))
    )
    return pop.select(key.alias(GEO), pl.col("population_0_17").alias("_population"))


def _summary(ds: DataSet, year: int, sources: Mapping[str, pl.DataFrame], ref: Path | None) -> pl.DataFrame:
    """One row per :class:`Republished` statistic: the England count of its source data set, and its
    percentage of ``percent_of`` (both unrounded)."""
    count = next(i for i in ds.indicators if i.unit == "count")
    percent = next((i for i in ds.indicators if i.unit == "percent"), None)

    def england(code: str, column: str | None) -> pl.Expr:
        src = sources.get(code)
        if column is None or src is None or src.is_empty() or column not in src.columns:
            return pl.lit(None, dtype=pl.Float64)
        value = src.filter(pl.col("geographic_level") == NATIONAL).get_column(column)
        return pl.lit(value.item() if value.len() == 1 else None, dtype=pl.Float64)

    parts = []
    for r, item in enumerate(ds.summary):
        number, total = england(item.source, item.column), england(item.source, item.percent_of)
        columns = [number.cast(pl.Int64).alias(count.name)]
        if percent is not None:
            columns.append(pl.when(total > 0).then(100 * number / total).alias(percent.name))
        parts.append(
            geography_rows(year, "national", ref).with_columns(
                *columns, *(pl.lit(v).alias(k) for k, v in item.values.items()), pl.lit(r).alias(_ROW)
            )
        )
    return pl.concat(parts, how="vertical")


def _derive(ds: DataSet, year: int, frame: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Percentages, rates and populations from the row's unrounded counts; null before ``first_year``."""
    needs_population = any(i.unit in ("rate", "population") for i in ds.indicators)
    if needs_population:
        frame = frame.join(_population(year, ref), on=GEO, how="left")
    derived = []
    for ind in ds.indicators:
        if ind.unit == "percent" and ind.numerator and ind.denominator:
            den = pl.col(ind.denominator)
            derived.append(pl.when(den > 0).then(100 * pl.col(ind.numerator) / den).alias(ind.name))
        elif ind.unit == "rate" and ind.numerator:
            pop = pl.col("_population")
            derived.append(pl.when(pop > 0).then(10_000 * pl.col(ind.numerator) / pop).alias(ind.name))
        elif ind.unit == "population":
            derived.append(pl.col("_population").alias(ind.name))
    frame = frame.with_columns(derived) if derived else frame
    late = [i.name for i in ds.indicators if i.first_year is not None and year < i.first_year]
    if late:
        frame = frame.with_columns(pl.lit(None).alias(c) for c in late)
    return frame.drop("_population", strict=False)
