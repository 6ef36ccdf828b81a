"""The suppressor's model of one reporting year: every count cell of the release and every relation an
attacker can use, built from the unprotected frames and the data set descriptions.

Cells: a count cell is keyed by (measure, geography, filter values other than totals); the same key in
several files is one cell (linked tables). A national summary row republishing another data set's
England count is that count's cell. Null (not available) cells count as zero in every sum (the measures
stage leaves them out), and the model checks that each relation holds that way. A sum with a
not-applicable member (``Indicator.applies`` false there) does not exist.

Relations (each ``total - sum(parts) = 0`` on true values):

- ``ColumnSum`` within every row, ``RowSum`` across rows for every combination of the other filters;
- geography for LA-level data sets: each region or Inner/Outer London is the sum of the LAs whose
  ``region_code`` it is, London is Inner plus Outer London, England is the sum of the nine regions;
- identities declared by definition (``DataSet.relations``, e.g. episodes at any point = at 31 March +
  ending), over cells of any files with the same geography and filters; they join the equations but are
  not sums (an England cell in one is still an England total);
- inequalities declared by definition (children <= episodes ...) as ``inequalities @ x <= 0``;
- ratio constraints: a percentage or rate published at England/regional level (where counts are rounded)
  bounds its numerator given its denominator or population.

A filter at its total, or grouping a filter at its total (A5's ``Gender`` / ``Total`` row), says nothing
about the cell: the national files' total rows are the England cells of the LA files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from cin_assets.census.geography import (
    ENGLAND_CODE,
    LOCAL,
    LONDON_CODE,
    NATIONAL,
    REGIONAL,
    in_london_sub_region,
)
from cin_assets.datasets.description import DataSet, Indicator
from cin_assets.disclosure.config import (
    ROUNDED_LEVELS,
    DisclosureConfig,
    DisclosureError,
)
from cin_assets.disclosure.rounding import scaled_half_up, tenths_of_ratio

_SCALE = {"percent": 100, "rate": 10_000}
_RANK = {LOCAL: 0, REGIONAL: 1, NATIONAL: 2}


@dataclass(frozen=True)
class Ratios:
    """Published England/regional percentages and rates as constraints on their counts:
    ``(tenths - 0.5) * den <= 10 * scale * num <= (tenths + 0.5) * den``; ``den`` is a cell or, when
    ``den_cell`` is -1, the constant ``den_value`` (a population). Only in force while the ratio is
    published, i.e. while neither count it is computed from is suppressed."""

    num_cell: np.ndarray
    den_cell: np.ndarray
    den_value: np.ndarray
    scale: np.ndarray
    tenths: np.ndarray
    labels: list[str]


@dataclass(frozen=True)
class Model:
    """Everything secondary suppression needs, as arrays indexed by cell."""

    config: DisclosureConfig
    occurrences: pl.DataFrame  # dataset, row, column, cell: every count cell of every file
    derived: pl.DataFrame  # dataset, row, column, depends (list of cell): every percent/rate/days cell
    scaled: dict[str, pl.DataFrame]  # dataset -> rounded derived values as integers (value * 10**dp)
    rows: pl.DataFrame  # dataset, row, time_period, level, geo, geo_name, filters, where
    keys: list[str]
    labels: list[str]
    level: np.ndarray  # 0 LA, 1 regional, 2 national
    value: np.ndarray  # int64, structural zeros as 0
    available: np.ndarray  # published as a number unless suppressed
    occurrence_count: np.ndarray
    relations: sp.csr_matrix  # relation x cell, +1 total / -1 part
    relation_labels: list[str]
    ratios: Ratios
    sums: np.ndarray  # per relation: a description's sum (not a declared identity)
    inequalities: sp.csr_matrix  # inequality x cell: row @ x <= 0
    inequality_labels: list[str]

    @property
    def n(self) -> int:
        return len(self.keys)

    @property
    def dependents(self) -> np.ndarray:
        """Per cell: how many published percentages, rates and day statistics are computed from it."""
        counts = np.zeros(self.n, dtype=np.int64)
        deps = self.derived.get_column("depends").explode().drop_nulls().to_numpy()
        np.add.at(counts, deps.astype(np.int64), 1)
        return counts

    @property
    def rounded(self) -> np.ndarray:
        return self.level > 0

    @property
    def primary(self) -> np.ndarray:
        return self.available & (self.value >= 1) & (self.value <= self.config.threshold)

    @property
    def england_total(self) -> np.ndarray:
        """National cells that are no relation's part: the top of every hierarchy."""
        is_part = np.zeros(self.n, dtype=bool)
        coo = self.relations[np.flatnonzero(self.sums)].tocoo()
        is_part[coo.col[coo.data < 0]] = True
        return (self.level == 2) & ~is_part

    @property
    def eligible(self) -> np.ndarray:
        """Cells that may be chosen as secondaries: published non-zero counts below England totals."""
        return self.available & (self.value > self.config.threshold) & ~self.england_total

    def published_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """What a published (unsuppressed) cell tells an attacker: exact for LA cells and zeros, the
        rounding interval for England/regional counts."""
        lo = self.value.astype(float)
        hi = lo.copy()
        rounded = self.rounded & self.available & (self.value > 0)
        base = self.config.rounding_base
        published = ((2 * self.value[rounded] + base) // (2 * base)) * base
        bounds = np.array([self.config.rounded_interval(int(p)) for p in published], dtype=float)
        if bounds.size:
            lo[rounded], hi[rounded] = bounds[:, 0], bounds[:, 1]
        return lo, hi


def _geo_expr(ds: DataSet) -> pl.Expr:
    if ds.geography == "national":
        return pl.col("country_code")
    lvl = pl.col("geographic_level")
    return (
        pl.when(lvl == NATIONAL)
        .then(pl.col("country_code"))
        .when(lvl == REGIONAL)
        .then(pl.col("region_code"))
        .otherwise(pl.col("old_la_code"))
    )


def _geo_name_expr(ds: DataSet) -> pl.Expr:
    if ds.geography == "national":
        return pl.col("country_name")
    lvl = pl.col("geographic_level")
    la = pl.concat_str(pl.col("la_name"), pl.lit(" ("), pl.col("old_la_code"), pl.lit(")"))
    return (
        pl.when(lvl == NATIONAL)
        .then(pl.col("country_name"))
        .when(lvl == REGIONAL)
        .then(pl.col("region_name"))
        .otherwise(la)
    )


def _parent_expr() -> pl.Expr:
    """The geography a row's counts add up into (LA data sets only)."""
    lvl, region = pl.col("geographic_level"), pl.col("region_code")
    return (
        pl.when(lvl == LOCAL)
        .then(region)
        .when((lvl == REGIONAL) & in_london_sub_region(region))
        .then(pl.lit(LONDON_CODE))
        .when(lvl == REGIONAL)
        .then(pl.lit(ENGLAND_CODE))
    )


def _at_total(ds: DataSet, name: str) -> pl.Expr | None:
    """Where filter ``name`` says nothing about the row: it is at its total, or it only groups a filter
    that is at its total (A5's ``Gender`` / ``Total`` row is the England total of every file)."""
    conditions = [pl.col(f.name) == f.total for f in ds.filters if f.total is not None and f.group == name]
    own = next((f for f in ds.filters if f.name == name), None)
    if own is not None and own.total is not None:
        conditions.append(pl.col(name) == own.total)
    return pl.any_horizontal(conditions) if conditions else None


def _filters_expr(ds: DataSet, *, skip_totals: bool) -> pl.Expr:
    """``name=value`` pairs of the row's filters, sorted by name; totals left out when ``skip_totals``."""
    parts = []
    for f in sorted(ds.filters, key=lambda f: f.name):
        pair = pl.concat_str(pl.lit(f"{f.name}="), pl.col(f.name).fill_null(""))
        at_total = _at_total(ds, f.name)
        if skip_totals and at_total is not None:
            pair = pl.when(at_total).then(pl.lit(None, dtype=pl.String)).otherwise(pair)
        parts.append(pair)
    if not parts:
        return pl.lit("")
    return pl.concat_list(parts).list.drop_nulls().list.join(", ")


def indicator_applies(ind: Indicator, frame: pl.DataFrame) -> pl.Series:
    """Rows where the indicator applies (``Indicator.applies``; everywhere when unset)."""
    if ind.applies is None:
        return pl.Series(ind.name, [True] * frame.height, dtype=pl.Boolean)
    out = frame.select(ind.applies.fill_null(False).cast(pl.Boolean).alias("a")).to_series()
    if out.len() == frame.height:
        return out
    return pl.Series("a", [bool(out[0])] * frame.height if out.len() else [], dtype=pl.Boolean)


def _summary_measures(ds: DataSet, datasets: Mapping[str, DataSet]) -> pl.DataFrame | None:
    """Filter values of each republished row -> the measure of the England cell it republishes."""
    if not ds.summary:
        return None
    records = []
    for item in ds.summary:
        source = datasets.get(item.source)
        if source is None:
            continue
        den = source.indicator(item.percent_of).measure_id if item.percent_of else None
        records.append({**item.values, "_measure": source.indicator(item.column).measure_id, "_den": den})
    if not records:
        return None
    return pl.DataFrame(records, schema_overrides={k: pl.String for k in records[0]})


def _scaled(ds: DataSet, frame: pl.DataFrame) -> pl.DataFrame:
    """Derived values as published integers (percent/rate in tenths, days whole), null if not available.

    Percentages are recomputed exactly from their numerator and denominator when both are in the row
    (and must agree with the measures stage's float); other values are rounded from the float."""
    out = []
    units = {i.name: i.unit for i in ds.indicators}
    for ind in ds.indicators:
        if ind.unit not in ("percent", "rate", "days"):
            continue
        col = pl.col(ind.name).cast(pl.Float64)
        value = pl.when(col.is_finite()).then(col)
        rounded = scaled_half_up(value, ind.decimal_places)
        if (
            ind.unit == "percent"
            and ind.numerator is not None
            and ind.denominator is not None
            and all(units.get(c) in ("count", "population") for c in (ind.numerator, ind.denominator))
        ):
            num, den = pl.col(ind.numerator), pl.col(ind.denominator)
            have = num.is_not_null() & den.is_not_null() & (den > 0) & value.is_not_null()
            drift = frame.filter(have & ((100 * num / den - col).abs() > 1e-6))
            if drift.height:
                raise DisclosureError(
                    f"{ds.code}: {ind.name} is not 100 * {ind.numerator} / {ind.denominator} in "
                    f"{drift.height} rows"
                )
            rounded = pl.when(have).then(tenths_of_ratio(num, den, 100)).otherwise(rounded)
        out.append(rounded.alias(ind.name))
    return frame.select(out) if out else pl.DataFrame()


def _empty_rows() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "dataset": pl.String,
            "row": pl.Int64,
            "time_period": pl.String,
            "level": pl.String,
            "geo": pl.String,
            "geo_name": pl.String,
            "filters": pl.String,
            "all_filters": pl.String,
            "where": pl.String,
        }
    )


def _empty_occ() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "dataset": pl.String,
            "row": pl.Int64,
            "column": pl.String,
            "value": pl.Int64,
            "available": pl.Boolean,
            "applies": pl.Boolean,
            "key": pl.String,
        }
    )


def _empty_derived() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"dataset": pl.String, "row": pl.Int64, "column": pl.String, "dep_keys": pl.List(pl.String)}
    )


def _check_columns(ds: DataSet, frame: pl.DataFrame) -> None:
    missing = [c for c in ds.columns if c not in frame.columns]
    if missing:
        raise DisclosureError(f"{ds.code}: unprotected frame lacks columns {missing}")
    periods = frame.get_column("time_period").unique()
    if periods.len() > 1:
        raise DisclosureError(
            f"{ds.code}: one reporting year at a time, got time periods {periods.to_list()}"
        )


def _key_col(name: str) -> str:
    return f"\x00key:{name}"


@dataclass(frozen=True)
class _Parts:
    """One data set's share of the model, in key space (cells get numbers once all files are read)."""

    rows: pl.DataFrame
    occ: pl.DataFrame
    derived: pl.DataFrame
    ratios: pl.DataFrame
    triplets: pl.DataFrame
    scaled: pl.DataFrame


def _dataset_parts(ds: DataSet, frame: pl.DataFrame, datasets: Mapping[str, DataSet]) -> _Parts:
    _check_columns(ds, frame)
    frame = frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    link_filters = _filters_expr(ds, skip_totals=True)
    where = pl.concat_str(
        _geo_name_expr(ds),
        pl.when(link_filters != "")
        .then(pl.concat_str(pl.lit(" ["), link_filters, pl.lit("]")))
        .otherwise(pl.lit("")),
    )
    info = frame.select(
        pl.lit(ds.code).alias("dataset"),
        pl.col("_row").alias("row"),
        pl.col("time_period").cast(pl.String),
        pl.col("geographic_level").alias("level"),
        _geo_expr(ds).alias("geo"),
        _geo_name_expr(ds).alias("geo_name"),
        link_filters.alias("filters"),
        _filters_expr(ds, skip_totals=False).alias("all_filters"),
        where.alias("where"),
        (
            pl.concat_str([pl.col(c).fill_null("") for c in ds.filter_columns], separator="\x1f")
            if ds.filter_columns
            else pl.lit("")
        ).alias("fkey"),
        (_parent_expr() if ds.geography == "la" else pl.lit(None, dtype=pl.String)).alias("parent"),
    )
    info = info.with_columns(_summary_keys(ds, frame, datasets))
    # a republished England count is the source's England cell, so it carries no filters of its own
    own_filters = pl.when(pl.col("_measure").is_not_null()).then(pl.lit("")).otherwise(pl.col("filters"))
    keyed = info.with_columns(
        pl.concat_str(
            pl.col("_measure").fill_null(ind.measure_id), pl.col("geo"), own_filters, separator="\x1f"
        ).alias(_key_col(ind.name))
        for ind in ds.counts()
    )
    scaled = _scaled(ds, frame.drop("_row"))
    return _Parts(
        rows=info.select(
            "dataset", "row", "time_period", "level", "geo", "geo_name", "filters", "all_filters", "where"
        ),
        occ=_occurrences(ds, frame, keyed),
        derived=_derived(ds, keyed),
        ratios=_dataset_ratios(ds, frame, keyed, scaled),
        triplets=_dataset_relations(ds, frame, keyed),
        scaled=scaled,
    )


def _summary_keys(ds: DataSet, frame: pl.DataFrame, datasets: Mapping[str, DataSet]) -> list[pl.Series]:
    """``_measure`` (the measure a republished row's count is) and ``_den_key`` (the England cell its
    percentage is of) per row; null for ordinary data sets."""
    empty = [
        pl.Series("_measure", [None] * frame.height, pl.String),
        pl.Series("_den_key", [None] * frame.height, pl.String),
    ]
    summary = _summary_measures(ds, datasets)
    if summary is None:
        return empty
    filters = [c for c in summary.columns if not c.startswith("_")]
    matched = frame.select("_row", *filters).join(summary, on=filters, how="left").sort("_row")
    den = pl.concat_str(pl.col("_den"), pl.lit(ENGLAND_CODE), pl.lit(""), separator="\x1f")
    out = matched.select(pl.col("_measure"), den.alias("_den_key"))
    return [out.get_column("_measure"), out.get_column("_den_key")]


def _occurrences(ds: DataSet, frame: pl.DataFrame, keyed: pl.DataFrame) -> pl.DataFrame:
    parts = []
    for ind in ds.counts():
        value = frame.get_column(ind.name).cast(pl.Int64)
        applies = indicator_applies(ind, frame)
        available = applies & value.is_not_null()
        parts.append(
            pl.DataFrame(
                {
                    "dataset": keyed.get_column("dataset"),
                    "row": keyed.get_column("row"),
                    "column": pl.Series([ind.name] * frame.height, dtype=pl.String),
                    "value": pl.select(pl.when(available).then(value).otherwise(0)).to_series(),
                    "available": available,
                    "applies": applies,
                    "key": keyed.get_column(_key_col(ind.name)),
                }
            )
        )
    if not parts:
        return _empty_occ()
    occ = pl.concat(parts)
    negative = occ.filter(pl.col("value") < 0)
    if negative.height:
        raise DisclosureError(
            f"{ds.code}: negative counts in {negative.get_column('column').unique().to_list()}"
        )
    return occ


def _derived(ds: DataSet, keyed: pl.DataFrame) -> pl.DataFrame:
    """Percent/rate/days cells and the keys of the counts they are computed from."""
    counts = {i.name for i in ds.counts()}
    parts = []
    for ind in ds.indicators:
        if ind.unit not in ("percent", "rate", "days"):
            continue
        names = [c for c in ind.depends_on if c in counts]
        if ds.summary and ind.unit == "percent":
            names = sorted(set(names) | counts)  # a republished row's percentage is of its own count
        deps = [pl.col(_key_col(c)) for c in names]
        if ds.summary and ind.unit == "percent":
            deps.append(pl.col("_den_key"))
        dep_keys = pl.concat_list(deps).list.drop_nulls() if deps else pl.lit([], dtype=pl.List(pl.String))
        parts.append(
            keyed.select("dataset", "row", pl.lit(ind.name).alias("column"), dep_keys.alias("dep_keys"))
        )
    return pl.concat(parts) if parts else _empty_derived()


def _dataset_ratios(
    ds: DataSet, frame: pl.DataFrame, keyed: pl.DataFrame, scaled: pl.DataFrame
) -> pl.DataFrame:
    """Published England/regional percentages and rates whose counts are rounded: interval constraints."""
    units = {i.name: i.unit for i in ds.indicators}
    rounded = pl.col("level").is_in(ROUNDED_LEVELS)
    parts = []
    for ind in ds.indicators:
        numerator = ind.numerator
        if ds.summary and ind.unit == "percent" and numerator is None:
            numerator = next((i.name for i in ds.counts()), None)
        if ind.unit not in _SCALE or numerator is None or units.get(numerator) != "count":
            continue
        applies = indicator_applies(ind, frame)
        num = pl.col(_key_col(numerator))
        num_value = frame.get_column(numerator).cast(pl.Float64)
        den_key: pl.Expr = pl.lit(None, dtype=pl.String)
        den_value: pl.Expr = pl.lit(None, dtype=pl.Float64)
        if ind.unit == "rate":
            rate = frame.get_column(ind.name).cast(pl.Float64)
            den_value = pl.lit(10_000 * num_value / rate)  # the population the rate was computed with
        elif ind.denominator is not None and units.get(ind.denominator) == "count":
            den_key = pl.col(_key_col(ind.denominator))
        elif ind.denominator is not None and units.get(ind.denominator) == "population":
            den_value = pl.lit(frame.get_column(ind.denominator).cast(pl.Float64))
        elif ds.summary:
            den_key = pl.col("_den_key")
        else:
            continue
        table = keyed.with_columns(
            pl.Series("_tenths", scaled.get_column(ind.name)),
            pl.Series("_applies", applies),
            pl.Series("_num", num_value),
        ).select(
            num.alias("num_key"),
            den_key.alias("den_key"),
            den_value.alias("den_value"),
            pl.lit(_SCALE[ind.unit], dtype=pl.Int64).alias("scale"),
            pl.col("_tenths").alias("tenths"),
            pl.concat_str(pl.lit(f"{ds.code} {ind.name} published for "), pl.col("where")).alias("label"),
            (rounded & pl.col("_applies") & pl.col("_tenths").is_not_null() & (pl.col("_num") > 0)).alias(
                "_keep"
            ),
        )
        table = table.filter(
            pl.col("_keep") & (pl.col("den_key").is_not_null() | pl.col("den_value").is_finite())
        )
        parts.append(table.drop("_keep"))
    return pl.concat(parts) if parts else _empty_ratios()


def _empty_ratios() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "num_key": pl.String,
            "den_key": pl.String,
            "den_value": pl.Float64,
            "scale": pl.Int64,
            "tenths": pl.Int64,
            "label": pl.String,
        }
    )


def _empty_triplets() -> pl.DataFrame:
    return pl.DataFrame(schema={"rel": pl.String, "key": pl.String, "coef": pl.Int64, "label": pl.String})


def _members(keyed: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Long (row, column, key) for the given count columns."""
    return (
        keyed.select("row", *(_key_col(c) for c in columns))
        .unpivot(index="row", variable_name="column", value_name="key")
        .with_columns(pl.col("column").str.strip_prefix("\x00key:"))
    )


def _dataset_relations(ds: DataSet, frame: pl.DataFrame, keyed: pl.DataFrame) -> pl.DataFrame:
    parts = []
    code = ds.code
    for i, cs in enumerate(ds.column_sums):
        cols = [cs.total, *cs.parts]
        label = f"{code} {cs.total} = {' + '.join(cs.parts)} for "
        parts.append(
            _members(keyed, cols)
            .join(keyed.select("row", "where"), on="row")
            .select(
                pl.concat_str(pl.lit(f"{code}|cs{i}|"), pl.col("row").cast(pl.String)).alias("rel"),
                "key",
                pl.when(pl.col("column") == cs.total).then(1).otherwise(-1).cast(pl.Int64).alias("coef"),
                pl.concat_str(pl.lit(label), pl.col("where")).alias("label"),
            )
        )
    counts = [i.name for i in ds.counts()]
    for j, rs in enumerate(ds.row_sums):
        parts.append(_row_sum(ds, j, rs, frame, keyed, counts))
    if ds.geography == "la" and counts:
        parts.append(_geography_sums(ds, keyed, counts))
    return pl.concat(parts) if parts else _empty_triplets()


def _matches(mapping: Mapping[str, str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(k) == v for k, v in mapping.items()]) if mapping else pl.lit(True)


def _describe(mapping: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())


def _row_sum(ds, j, rs, frame: pl.DataFrame, keyed: pl.DataFrame, counts: list[str]) -> pl.DataFrame:
    names = {k for m in (rs.total, *rs.parts) for k in m}
    others = [c for c in ds.filter_columns if c not in names]
    coef = pl.when(_matches(rs.total)).then(1).otherwise(0) - pl.sum_horizontal(
        pl.when(_matches(p)).then(1).otherwise(0) for p in rs.parts
    )
    roles = frame.select(
        pl.col("_row").alias("row"),
        coef.cast(pl.Int64).alias("coef"),
        _matches(rs.total).alias("_is_total"),
        pl.concat_str([pl.col(c).fill_null("") for c in others], separator="\x1f").alias("_others")
        if others
        else pl.lit("").alias("_others"),
    ).join(keyed.select("row", "geo", "where"), on="row")
    roles = roles.with_columns(
        pl.concat_str(pl.col("geo"), pl.col("_others"), separator="\x1f").alias("_group")
    )
    totals = roles.filter(pl.col("_is_total"))
    dupes = totals.filter(pl.col("_group").is_duplicated())
    if dupes.height:
        raise DisclosureError(f"{ds.code}: several total rows for row sum {_describe(rs.total)}")
    label = (
        f"{ds.code} {{}}: {_describe(rs.total)} = sum of {' + '.join(_describe(p) for p in rs.parts)} for "
    )
    groups = totals.select("_group", pl.col("where").alias("_where"))
    members = roles.filter(pl.col("coef") != 0).join(groups, on="_group", how="inner")
    return members.join(_members(keyed, counts), on="row").select(
        pl.concat_str(pl.lit(f"{ds.code}|rs{j}|"), pl.col("_group"), pl.lit("|"), pl.col("column")).alias(
            "rel"
        ),
        "key",
        "coef",
        pl.concat_str(
            pl.lit(f"{ds.code} "),
            pl.col("column"),
            pl.lit(label.removeprefix(f"{ds.code} {{}}")),
            pl.col("_where"),
        ).alias("label"),
    )


_CHILDREN = {ENGLAND_CODE: "the nine regions", LONDON_CODE: "Inner London + Outer London"}


def _geography_sums(ds: DataSet, keyed: pl.DataFrame, counts: list[str]) -> pl.DataFrame:
    """Each row's counts are parts of its parent geography's row (same filters)."""
    rows = keyed.select("row", "geo", "parent", "fkey", "geo_name", "filters")
    parents = rows.select(
        pl.col("row").alias("_prow"),
        pl.col("geo").alias("parent"),
        "fkey",
        pl.col("geo_name").alias("_pname"),
    )
    children = rows.filter(pl.col("parent").is_not_null()).join(parents, on=["parent", "fkey"], how="left")
    orphans = children.filter(pl.col("_prow").is_null())
    if orphans.height:
        missing = orphans.get_column("parent").unique().sort().to_list()
        raise DisclosureError(f"{ds.code}: rows add up to geographies with no row of their own: {missing}")
    what = pl.col("parent").replace_strict(_CHILDREN, default="its local authorities")
    groups = children.select(
        "row",
        pl.lit(-1, dtype=pl.Int64).alias("coef"),
        pl.concat_str(pl.lit(f"{ds.code}|geo|"), pl.col("parent"), pl.lit("|"), pl.col("fkey")).alias("_g"),
        pl.concat_str(
            pl.col("_pname"),
            pl.lit(" = sum of "),
            what,
            pl.when(pl.col("filters") != "")
            .then(pl.concat_str(pl.lit(" ["), pl.col("filters"), pl.lit("]")))
            .otherwise(pl.lit("")),
        ).alias("_text"),
    )
    tops = (
        groups.group_by("_g")
        .agg(pl.col("_text").first())
        .join(
            children.select(
                pl.concat_str(pl.lit(f"{ds.code}|geo|"), pl.col("parent"), pl.lit("|"), pl.col("fkey")).alias(
                    "_g"
                ),
                pl.col("_prow").alias("row"),
            ).unique(),
            on="_g",
        )
        .with_columns(pl.lit(1, dtype=pl.Int64).alias("coef"))
    )
    members = pl.concat([groups, tops.select("row", "coef", "_g", "_text")])
    return members.join(_members(keyed, counts), on="row").select(
        pl.concat_str(pl.col("_g"), pl.lit("|"), pl.col("column")).alias("rel"),
        "key",
        "coef",
        pl.concat_str(pl.lit(f"{ds.code} "), pl.col("column"), pl.lit(": "), pl.col("_text")).alias("label"),
    )


def build_model(
    frames: Mapping[str, pl.DataFrame], datasets: Mapping[str, DataSet], config: DisclosureConfig
) -> Model:
    """Build the model of one reporting year from the unprotected frames (see module docstring)."""
    codes = sorted(frames)
    unknown = [c for c in codes if c not in datasets]
    if unknown:
        raise DisclosureError(f"no description for data sets {unknown}")
    parts = [_dataset_parts(datasets[c], frames[c], datasets) for c in codes]
    occ = pl.concat([p.occ for p in parts]) if parts else _empty_occ()
    occ = occ.with_columns((pl.col("key").rank("dense") - 1).cast(pl.Int64).alias("cell"))
    rows = pl.concat([p.rows for p in parts]) if parts else _empty_rows()
    cells = _cells(occ, rows)
    cell_of = occ.select("key", "cell").unique()
    sums = pl.concat([p.triplets for p in parts]) if parts else _empty_triplets()
    identities, inequalities = _declared(datasets, cells)
    relations, relation_labels = _link_relations(pl.concat([sums, identities]), cell_of, cells)
    is_sum = np.array([not label.startswith(_DECLARED) for label in relation_labels], dtype=bool)
    ineq, ineq_labels = _link_inequalities(inequalities, cell_of, cells)
    derived = _link_derived(pl.concat([p.derived for p in parts]) if parts else _empty_derived(), cell_of)
    ratios = _link_ratios(pl.concat([p.ratios for p in parts]) if parts else _empty_ratios(), cell_of)
    return Model(
        config=config,
        occurrences=occ.select("dataset", "row", "column", "cell"),
        derived=derived,
        scaled={c: p.scaled for c, p in zip(codes, parts, strict=True)},
        rows=rows,
        keys=cells.get_column("key").to_list(),
        labels=cells.get_column("label").to_list(),
        level=cells.get_column("level").replace_strict(_RANK, return_dtype=pl.Int8).to_numpy(),
        value=cells.get_column("value").to_numpy().astype(np.int64),
        available=cells.get_column("available").to_numpy(),
        occurrence_count=cells.get_column("occurrences").to_numpy(),
        relations=relations,
        relation_labels=relation_labels,
        ratios=ratios,
        sums=is_sum,
        inequalities=ineq,
        inequality_labels=ineq_labels,
    )


_DECLARED = "by definition: "


def _declared(datasets: Mapping[str, DataSet], cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The descriptions' :class:`Relation` as triplets (identities, inequalities): one relation per
    geography and filter combination where every term is an available, applicable cell."""
    present = cells.filter(pl.col("available") & pl.col("applies")).select(
        "key",
        "label",
        pl.col("key").str.splitn("\x1f", 2).struct.field("field_0").alias("measure"),
        pl.col("key").str.splitn("\x1f", 2).struct.field("field_1").alias("context"),
    )
    declared = {r: None for code in sorted(datasets) for r in datasets[code].relations}
    out: dict[str, list[pl.DataFrame]] = {"eq": [], "le": []}
    for i, rel in enumerate(declared):
        contexts = None
        for measure, _ in rel.terms:
            have = present.filter(pl.col("measure") == measure).select("context")
            contexts = have if contexts is None else contexts.join(have, on="context", how="semi")
        assert contexts is not None
        if contexts.is_empty():
            continue
        terms = pl.DataFrame(
            {"measure": [m for m, _ in rel.terms], "coef": [c for _, c in rel.terms]},
            schema={"measure": pl.String, "coef": pl.Int64},
        )
        text = " ".join(f"{'+' if c > 0 else '-'} {m}" for m, c in rel.terms).removeprefix("+ ")
        text = f"{_DECLARED}{text} {'= 0' if rel.kind == 'eq' else '<= 0'} ({rel.why})"
        members = present.join(contexts, on="context", how="semi").join(terms, on="measure")
        first = rel.terms[0][0]
        labels = members.filter(pl.col("measure") == first).select("context", pl.col("label").alias("_at"))
        out[rel.kind].append(
            members.join(labels, on="context", maintain_order="left").select(
                pl.concat_str(pl.lit(f"def|{i}|"), pl.col("context")).alias("rel"),
                "key",
                "coef",
                pl.concat_str(pl.lit(text + " at "), pl.col("_at")).alias("label"),
            )
        )
    return tuple(  # type: ignore[return-value]
        pl.concat(out[k]).sort("rel", "key") if out[k] else _empty_triplets() for k in ("eq", "le")
    )


def _link_inequalities(
    triplets: pl.DataFrame, cell_of: pl.DataFrame, cells: pl.DataFrame
) -> tuple[sp.csr_matrix, list[str]]:
    """Declared inequalities as a sparse (inequality x cell) matrix; each must hold on the counts."""
    linked = triplets.join(cell_of, on="key", how="inner", maintain_order="left")
    per = linked.group_by("rel", maintain_order=True).agg("cell", "coef", pl.col("label").first())
    row_idx = np.repeat(np.arange(per.height), per.get_column("cell").list.len().to_numpy())
    col_idx = per.get_column("cell").explode().to_numpy().astype(np.int64)
    data = per.get_column("coef").explode().to_numpy().astype(np.int64)
    matrix = sp.csr_matrix((data, (row_idx, col_idx)), shape=(per.height, cells.height))
    values = cells.get_column("value").to_numpy().astype(np.int64)
    broken = np.flatnonzero(matrix @ values > 0)
    if broken.size:
        labels = per.get_column("label")
        raise DisclosureError(
            f"{broken.size} relations declared by definition do not hold on the counts: "
            + "; ".join(labels[int(i)] for i in broken[:5])
        )
    return matrix, per.get_column("label").to_list()


def _cells(occ: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """One row per cell (first occurrence in data set, row, column order); linked occurrences must agree."""
    described = occ.join(rows.select("dataset", "row", "level", "where"), on=["dataset", "row"], how="left")
    described = described.with_columns(
        pl.concat_str(
            pl.col("dataset"), pl.lit(" "), pl.col("column"), pl.lit(" for "), pl.col("where")
        ).alias("label")
    ).sort("cell", "dataset", "row", "column")
    cells = described.group_by("cell", maintain_order=True).agg(
        pl.col("key").first(),
        pl.col("label").first(),
        pl.col("level").first(),
        pl.col("value").first(),
        pl.col("available").first(),
        pl.col("applies").all(),
        pl.len().alias("occurrences"),
        (pl.col("value").n_unique() + pl.col("available").n_unique() + pl.col("level").n_unique()).alias(
            "_kinds"
        ),
    )
    clash = cells.filter(pl.col("_kinds") > 3)
    if clash.height:
        raise DisclosureError(
            "linked cells differ between files (same measure, geography and filters): "
            + "; ".join(clash.get_column("label").head(5).to_list())
            + " (a count's measure defaults to its column name: give different statistics distinct measures)"
        )
    return cells.drop("_kinds").sort("cell")


def _link_relations(
    triplets: pl.DataFrame, cell_of: pl.DataFrame, cells: pl.DataFrame
) -> tuple[sp.csr_matrix, list[str]]:
    """Relations as a sparse (relation x cell) matrix; relations repeated in linked files kept once."""
    n = cells.height
    structural = cells.filter(~pl.col("applies")).select("cell")
    triplets = triplets.join(cell_of, on="key", how="inner")
    # a sum with a member that does not apply there does not exist
    triplets = triplets.join(
        triplets.join(structural, on="cell").select("rel").unique(), on="rel", how="anti"
    )
    merged = (
        triplets.group_by("rel", "cell")
        .agg(pl.col("coef").sum(), pl.col("label").first())
        .filter(pl.col("coef") != 0)
        .sort("rel", "cell")
    )
    per = merged.group_by("rel", maintain_order=True).agg(
        pl.col("cell"),
        pl.col("coef"),
        pl.col("label").first(),
        pl.concat_str(pl.col("cell").cast(pl.String), pl.col("coef").cast(pl.String), separator=":")
        .str.join(",")
        .alias("_sig"),
    )
    per = per.unique("_sig", keep="first", maintain_order=True).filter(pl.col("cell").list.len() > 1)
    values = cells.get_column("value").to_numpy().astype(np.int64)
    row_idx = np.repeat(np.arange(per.height), per.get_column("cell").list.len().to_numpy())
    col_idx = per.get_column("cell").explode().to_numpy().astype(np.int64)
    data = per.get_column("coef").explode().to_numpy().astype(np.int64)
    matrix = sp.csr_matrix((data, (row_idx, col_idx)), shape=(per.height, n))
    residual = matrix @ values
    broken = np.flatnonzero(residual != 0)
    if broken.size:
        labels = per.get_column("label")
        detail = "; ".join(f"{labels[int(i)]} (off by {int(residual[i])})" for i in broken[:5])
        raise DisclosureError(f"{broken.size} sums in the descriptions do not hold on the counts: {detail}")
    return matrix, per.get_column("label").to_list()


def _link_derived(derived: pl.DataFrame, cell_of: pl.DataFrame) -> pl.DataFrame:
    exploded = derived.with_row_index("_d").explode("dep_keys").rename({"dep_keys": "key"})
    deps = exploded.join(cell_of, on="key", how="inner").group_by("_d").agg(pl.col("cell").unique().sort())
    return (
        derived.with_row_index("_d")
        .join(deps, on="_d", how="left")
        .sort("_d")
        .select(
            "dataset",
            "row",
            "column",
            pl.col("cell").fill_null(pl.lit([], dtype=pl.List(pl.Int64))).alias("depends"),
        )
    )


def _link_ratios(ratios: pl.DataFrame, cell_of: pl.DataFrame) -> Ratios:
    num = cell_of.rename({"key": "num_key", "cell": "num_cell"})
    den = cell_of.rename({"key": "den_key", "cell": "den_cell"})
    # keep the ratios' own order: it fixes the LP's row order, and with it the pattern HiGHS returns
    linked = ratios.join(num, on="num_key", how="inner", maintain_order="left").join(
        den, on="den_key", how="left", maintain_order="left"
    )
    linked = linked.filter(pl.col("den_cell").is_not_null() | pl.col("den_key").is_null())
    linked = linked.unique(
        ["num_cell", "den_cell", "den_value", "scale", "tenths"], keep="first", maintain_order=True
    )
    return Ratios(
        num_cell=linked.get_column("num_cell").to_numpy().astype(np.int64),
        den_cell=linked.get_column("den_cell").fill_null(-1).to_numpy().astype(np.int64),
        den_value=linked.get_column("den_value").fill_null(0.0).to_numpy(),
        scale=linked.get_column("scale").to_numpy(),
        tenths=linked.get_column("tenths").to_numpy(),
        labels=linked.get_column("label").to_list(),
    )
