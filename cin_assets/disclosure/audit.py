"""The attacker's view of a published year, rebuilt from the published strings and the descriptions alone.

This module deliberately shares nothing with the suppressor (``model``/``suppress``): it re-derives the
cells, links and relations from what is published, so a bug in one cannot hide the same bug in the other.

What the attacker knows:

- every published number: local authority counts exactly; England and regional counts only to their
  rounding interval (``DisclosureConfig.rounded_interval``: a published 0 is a true zero, anything else is
  above the threshold because 1..threshold is always suppressed);
- every ``c`` is a count of at least 1 (zeros are always published);
- not-available cells are not in any sum (the measures stage leaves them out), so they count as zero and
  never protect anything; a sum with a not-applicable member does not exist;
- the relations of the descriptions: ColumnSum within rows, RowSum across rows, LA -> region/Inner or
  Outer London -> London -> England, and linked cells (same measure, geography and non-total filters)
  being one number;
- the relations the descriptions declare between statistics (``DataSet.relations``), instantiated here
  from the published cells' keys (not from the suppressor's model): identities as equations,
  inequalities (children <= episodes ...) as inequality rows;
- published England/regional percentages (1 dp, half up) bound numerator/denominator, and rates bound
  their count given the public ONS population (when populations are supplied).

``audit`` tightens every unknown's integer bounds by propagating each relation in turn (integer interval
reasoning, which can beat the LP relaxation), solves, per independent component and within those bounds,
linear programmes for every suppressed cell's feasible interval (exact min and max for any cell the values
reached do not clear: a value reached is not a bound), and fails a cell that is exactly determined (its
integer interval holds one value) or provably below ``protection``; its report gives each suppressed
cell's interval.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from polars._typing import PolarsDataType
from scipy.sparse.csgraph import connected_components

from cin_assets.census.geography import (
    ENGLAND_CODE,
    LOCAL,
    LONDON_CODE,
    NATIONAL,
    REGIONAL,
    in_london_sub_region,
)
from cin_assets.datasets.description import DataSet
from cin_assets.disclosure.config import (
    ROUNDED_LEVELS,
    DisclosureConfig,
)
from cin_assets.disclosure.lp import colour_classes, highs, propagate, waves

_TOL = 1e-6
_HUGE = 1e9  # "no upper bound", finite so that no component of a batched LP is unbounded
_WORTHWHILE = 0.25  # keep pushing all pending cells together while a push certifies this share
_LOCAL_BLOCKS = 128  # local bounding LPs stacked into one solve
FAILURE_SCHEMA: dict[str, PolarsDataType] = {
    "dataset": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "rule": pl.String,
    "message": pl.String,
}
_SCALES = {"percent": 100, "rate": 10_000}


def failures_frame(records: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=FAILURE_SCHEMA) if records else pl.DataFrame(schema=FAILURE_SCHEMA)


# --------------------------------------------------------------------------------------------- reading
def _row_keys(ds: DataSet, frame: pl.DataFrame, datasets: Mapping[str, DataSet]) -> pl.DataFrame:
    """Per published row: level, geography code, parent geography, filter signatures, and for a national
    summary the measure (and percentage base) of the England cell the row republishes."""
    level = pl.col("geographic_level")
    if ds.geography == "la":
        code = (
            pl.when(level == NATIONAL)
            .then(pl.col("country_code"))
            .when(level == REGIONAL)
            .then(pl.col("region_code"))
            .otherwise(pl.col("old_la_code"))
        )
        parent = (
            pl.when(level == REGIONAL)
            .then(
                pl.when(in_london_sub_region(pl.col("region_code")))
                .then(pl.lit(LONDON_CODE))
                .otherwise(pl.lit(ENGLAND_CODE))
            )
            .when(level != NATIONAL)
            .then(pl.col("region_code"))
        )
    else:
        code, parent = pl.col("country_code"), pl.lit(None, dtype=pl.String)
    # a filter says nothing about a row where it is at its total, or where a filter grouped under it is
    # (a characteristic type's "Total" row is the whole population)
    link_pairs = [
        pl.when(
            ~pl.any_horizontal(
                pl.lit(False),
                *[pl.col(g.name) == g.total for g in ds.filters if g.total is not None and g.name == f.name],
                *[pl.col(g.name) == g.total for g in ds.filters if g.total is not None and g.group == f.name],
            )
        ).then(pl.format("{}={}", pl.lit(f.name), pl.col(f.name)))
        for f in sorted(ds.filters, key=lambda f: f.name)
    ]
    link = pl.concat_list(link_pairs).list.drop_nulls().list.join(", ") if link_pairs else pl.lit("")
    every = (
        pl.concat_str([pl.col(c).fill_null("") for c in ds.filter_columns], separator="|")
        if ds.filter_columns
        else pl.lit("")
    )
    rows = frame.with_row_index("row").select(
        pl.col("row").cast(pl.Int64),
        level.alias("level"),
        code.alias("geo"),
        parent.alias("parent"),
        link.alias("link"),
        every.alias("every"),
        *[pl.col(c) for c in ds.filter_columns],
    )
    measure = pl.lit(None, dtype=pl.String).alias("republishes")
    base = pl.lit(None, dtype=pl.String).alias("percent_base")
    rows = rows.with_columns(measure, base)
    for item in ds.summary:
        source = datasets.get(item.source)
        if source is None:
            continue
        hit = pl.all_horizontal([pl.col(k) == v for k, v in item.values.items()])
        rows = rows.with_columns(
            pl.when(hit)
            .then(pl.lit(source.indicator(item.column).measure_id))
            .otherwise("republishes")
            .alias("republishes"),
            pl.when(hit)
            .then(pl.lit(source.indicator(item.percent_of).measure_id if item.percent_of else None))
            .otherwise("percent_base")
            .alias("percent_base"),
        )
    return rows


def _read(
    published: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    config: DisclosureConfig,
    carried: Collection[str] = (),
):
    """Long table of every published count cell with its link key, and the per-row key table.

    A not-available cell is a known 0 in the sums (the LA is not counted), except in the rows of a
    ``carried`` LA (declared carry_forward): the totals hold its earlier figures, unknown to the attacker."""
    counts, rows_by = [], {}
    for code in sorted(published):
        ds, frame = datasets[code], published[code]
        rows = _row_keys(ds, frame, datasets)
        rows_by[code] = rows
        names = [i.name for i in ds.counts() if i.name in frame.columns]
        if not names:
            continue
        long = (
            frame.with_row_index("row")
            .select(pl.col("row").cast(pl.Int64), *names)
            .unpivot(index="row", variable_name="column", value_name="text")
            .join(rows.select("row", "level", "geo", "link", "republishes"), on="row")
        )
        measures = pl.col("column").replace_strict({i.name: i.measure_id for i in ds.counts()})
        key = pl.concat_str(
            pl.coalesce("republishes", measures),
            pl.col("geo"),
            pl.when(pl.col("republishes").is_not_null()).then(pl.lit("")).otherwise(pl.col("link")),
            separator="#",
        )
        own = (pl.col("level") == LOCAL) & pl.col("geo").is_in(sorted(carried))
        counts.append(
            long.select(
                pl.lit(code).alias("dataset"),
                "row",
                "column",
                "text",
                "level",
                key.alias("key"),
                own.alias("_own"),
            )
        )
    schema = {
        "dataset": pl.String,
        "row": pl.Int64,
        "column": pl.String,
        "text": pl.String,
        "level": pl.String,
        "key": pl.String,
        "_own": pl.Boolean,
    }
    long = pl.concat(counts) if counts else pl.DataFrame(schema=schema)
    number = pl.col("text").str.extract(r"^(\d+)$").cast(pl.Int64)
    long = long.with_columns(
        pl.when(pl.col("text") == config.suppressed)
        .then(pl.lit("c"))
        .when(pl.col("_own") & (pl.col("text") == config.not_available))
        .then(pl.lit("unknown"))
        .when(pl.col("text") == config.not_applicable)
        .then(pl.lit("structural"))
        .when(number.is_not_null())
        .then(pl.lit("number"))
        .otherwise(pl.lit("absent"))
        .alias("status"),
        number.alias("number"),
    ).drop("_own")
    return long, rows_by


# ------------------------------------------------------------------------------------------ relations
def _relations(published, datasets, rows_by) -> pl.DataFrame:
    """Every relation as (rel, dataset, row, column, coef) over published count cells."""
    out = []
    for code in sorted(published):
        ds = datasets[code]
        rows = rows_by[code]
        counts = [i.name for i in ds.counts()]
        for n, cs in enumerate(ds.column_sums):
            for column, coef in [(cs.total, 1)] + [(p, -1) for p in cs.parts]:
                out.append(
                    rows.select(
                        pl.format("{}/column-sum {}/row {}", pl.lit(code), pl.lit(n), pl.col("row")).alias(
                            "rel"
                        ),
                        pl.lit(code).alias("dataset"),
                        "row",
                        pl.lit(column).alias("column"),
                        pl.lit(coef).alias("coef"),
                    )
                )
        for n, rs in enumerate(ds.row_sums):
            fixed = sorted({k for m in (rs.total, *rs.parts) for k in m})
            free = [c for c in ds.filter_columns if c not in fixed]
            group = pl.concat_str([pl.col("geo"), *[pl.col(c).fill_null("") for c in free]], separator="|")
            role = pl.lit(0)
            for mapping, coef in [(rs.total, 1)] + [(p, -1) for p in rs.parts]:
                if mapping:
                    role = role + pl.when(
                        pl.all_horizontal([pl.col(k) == v for k, v in mapping.items()])
                    ).then(coef).otherwise(0)
            tagged = rows.select("row", group.alias("group"), role.alias("coef")).filter(pl.col("coef") != 0)
            with_total = tagged.filter(pl.col("coef") > 0).select("group")
            tagged = tagged.join(with_total.unique(), on="group", how="semi")
            for column in counts:
                out.append(
                    tagged.select(
                        pl.format(
                            "{}/row-sum {}/{}/{}", pl.lit(code), pl.lit(n), pl.col("group"), pl.lit(column)
                        ).alias("rel"),
                        pl.lit(code).alias("dataset"),
                        "row",
                        pl.lit(column).alias("column"),
                        pl.col("coef").cast(pl.Int32),
                    )
                )
        if ds.geography == "la":
            parents = rows.select(pl.col("row").alias("parent_row"), pl.col("geo").alias("parent"), "every")
            children = rows.filter(pl.col("parent").is_not_null()).join(
                parents, on=["parent", "every"], how="inner"
            )
            edges = pl.concat(
                [
                    children.select("row", "parent", "every", pl.lit(-1).alias("coef")),
                    children.select(
                        pl.col("parent_row").alias("row"), "parent", "every", pl.lit(1).alias("coef")
                    ).unique(),
                ]
            )
            for column in counts:
                out.append(
                    edges.select(
                        pl.format(
                            "{}/geography/{}/{}/{}",
                            pl.lit(code),
                            pl.col("parent"),
                            pl.col("every"),
                            pl.lit(column),
                        ).alias("rel"),
                        pl.lit(code).alias("dataset"),
                        "row",
                        pl.lit(column).alias("column"),
                        pl.col("coef").cast(pl.Int32),
                    )
                )
    schema = {"rel": pl.String, "dataset": pl.String, "row": pl.Int64, "column": pl.String, "coef": pl.Int32}
    return pl.concat([o.cast(schema) for o in out]) if out else pl.DataFrame(schema=schema)


# ------------------------------------------------------------------------------------------ the system
@dataclass(frozen=True)
class PublishedSystem:
    """Cells (one per link key) with what is known about them, the relations between them, and ratio
    constraints; plus every published occurrence of every cell for naming failures."""

    config: DisclosureConfig
    occurrences: pl.DataFrame  # dataset, row, column, text, status, number, level, key, cell
    cells: pl.DataFrame  # cell, key, status, number, rounded
    relations: pl.DataFrame  # rel, cell, coef (merged, deduplicated)
    ratios: pl.DataFrame  # num, den (cell or null), den_value, scale, tenths
    inequalities: pl.DataFrame  # rel, cell, coef: sum(coef * x) <= 0 (declared by definition)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per cell: lower, upper bound and whether it is unknown to the attacker (a variable)."""
        status = self.cells.get_column("status").to_numpy()
        number = self.cells.get_column("number").fill_null(0).to_numpy().astype(float)
        rounded = self.cells.get_column("rounded").to_numpy()
        lo, hi = number.copy(), number.copy()
        lo[status != "number"] = 0.0
        hi[status != "number"] = 0.0
        fuzzy = (status == "number") & rounded & (number > 0)
        for i in np.flatnonzero(fuzzy):
            lo[i], hi[i] = self.config.rounded_interval(int(number[i]))
        supp = status == "c"
        lo[supp], hi[supp] = 1.0, np.inf
        carried = status == "unknown"  # a carried LA's figures: any count, never a target
        hi[carried] = np.inf
        unknown = supp | carried | (fuzzy & (hi > lo))
        return lo, hi, unknown


def build_system(
    published: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    config: DisclosureConfig,
    populations: Mapping[str, float] | None = None,
    carried: Collection[str] = (),
) -> PublishedSystem:
    """Read the published year into the attacker's system (see module docstring); ``carried``: LAs whose
    not-available cells are unknowns in the sums (declared carry_forward)."""
    long, rows_by = _read(published, datasets, config, carried)
    long = long.with_columns((pl.col("key").rank("dense") - 1).cast(pl.Int64).alias("cell"))
    # a cell published as a number in any file is known to the attacker, whatever the other files show
    informative = pl.col("status").replace_strict(
        {"number": 0, "c": 1, "unknown": 2, "absent": 3, "structural": 4}, return_dtype=pl.Int8
    )
    first = long.sort("cell", informative, "dataset", "row", "column").unique(
        "cell", keep="first", maintain_order=True
    )
    cells = first.select(
        "cell", "key", "status", "number", pl.col("level").is_in(ROUNDED_LEVELS).alias("rounded")
    ).sort("cell")
    rel = _relations(published, datasets, rows_by).join(
        long.select("dataset", "row", "column", "cell"), on=["dataset", "row", "column"], how="inner"
    )
    # a sum with a not-applicable member does not exist
    structural = cells.filter(pl.col("status") == "structural").select("cell")
    rel = rel.join(rel.join(structural, on="cell").select("rel").unique(), on="rel", how="anti")
    identities, inequalities = _declared(datasets, cells)
    rel = pl.concat([rel.select("rel", "cell", "coef"), identities])
    rel = rel.group_by("rel", "cell").agg(pl.col("coef").sum()).filter(pl.col("coef") != 0)
    signature = (
        rel.sort("rel", "cell")
        .group_by("rel", maintain_order=True)
        .agg(pl.format("{}:{}", "cell", "coef").str.join(" ").alias("sig"), pl.len().alias("size"))
    )
    keep = signature.filter(pl.col("size") > 1).sort("rel").unique("sig", keep="first").select("rel")
    rel = rel.join(keep, on="rel", how="semi").sort("rel", "cell")
    ratios = _ratios(published, datasets, rows_by, long, config, populations)
    return PublishedSystem(
        config=config,
        occurrences=long,
        cells=cells,
        relations=rel,
        ratios=ratios,
        inequalities=inequalities,
    )


def _declared(datasets: Mapping[str, DataSet], cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The descriptions' relations between statistics, instantiated on the published cells: for each,
    every geography and filter combination where all its measures are published (a number or ``c``)."""
    parts = pl.col("key").str.splitn("#", 2)
    published = cells.filter(pl.col("status").is_in(["number", "c"])).select(
        "cell", parts.struct.field("field_0").alias("measure"), parts.struct.field("field_1").alias("where")
    )
    seen: list = []
    for code in sorted(datasets):
        seen += [r for r in datasets[code].relations if r not in seen]
    frames: dict[str, list[pl.DataFrame]] = {"eq": [], "le": []}
    for n, relation in enumerate(seen):
        terms = pl.DataFrame(
            {"measure": [m for m, _ in relation.terms], "coef": [c for _, c in relation.terms]},
            schema={"measure": pl.String, "coef": pl.Int32},
        )
        hits = published.join(terms, on="measure")
        complete = hits.group_by("where").agg(pl.col("measure").n_unique().alias("k"))
        complete = complete.filter(pl.col("k") == terms.height).select("where")
        frames[relation.kind].append(
            hits.join(complete, on="where", how="semi").select(
                pl.format("{}/declared {}/{}", pl.lit(relation.kind), pl.lit(n), "where").alias("rel"),
                "cell",
                "coef",
            )
        )
    schema = pl.Schema({"rel": pl.String, "cell": pl.Int64, "coef": pl.Int32})
    eq, le = (
        pl.concat([f.cast(schema) for f in frames[k]]).sort("rel", "cell")
        if frames[k]
        else pl.DataFrame(schema=schema)
        for k in ("eq", "le")
    )
    return eq, le


def _number(text: pl.Expr) -> pl.Expr:
    return text.str.extract(r"^(\d+(?:\.\d+)?)$").cast(pl.Float64)


def _ratios(published, datasets, rows_by, long, config, populations) -> pl.DataFrame:
    """Published England/regional percentages (and rates, given populations) as ratio constraints."""
    cell_at = long.select("dataset", "row", "column", "cell")
    key_cell = long.select("key", "cell").unique()
    out = []
    for code in sorted(published):
        ds, frame = datasets[code], published[code]
        rows = rows_by[code]
        units = {i.name: i.unit for i in ds.indicators}
        first_count = next((i.name for i in ds.counts()), None)
        for ind in ds.indicators:
            if ind.unit not in _SCALES:
                continue
            num_col = ind.numerator or (first_count if ds.summary and ind.unit == "percent" else None)
            if units.get(num_col or "") != "count":
                continue
            table = (
                frame.with_row_index("row")
                .select(
                    pl.col("row").cast(pl.Int64),
                    (_number(pl.col(ind.name)) * 10).round(0).cast(pl.Int64).alias("tenths"),
                )
                .join(rows.select("row", "level", "geo", "percent_base"), on="row")
            )
            table = table.filter(pl.col("level").is_in(ROUNDED_LEVELS) & pl.col("tenths").is_not_null())
            table = table.join(
                cell_at.filter(pl.col("dataset") == code, pl.col("column") == num_col).select(
                    "row", pl.col("cell").alias("num")
                ),
                on="row",
            )
            if ind.unit == "rate":
                if not populations:
                    continue
                table = table.with_columns(
                    pl.col("geo")
                    .replace_strict(dict(populations), default=None, return_dtype=pl.Float64)
                    .alias("den_value"),
                    pl.lit(None, dtype=pl.Int64).alias("den"),
                ).filter(pl.col("den_value").is_not_null())
            elif units.get(ind.denominator or "") == "count":
                table = table.join(
                    cell_at.filter(pl.col("dataset") == code, pl.col("column") == ind.denominator).select(
                        "row", pl.col("cell").alias("den")
                    ),
                    on="row",
                ).with_columns(pl.lit(None, dtype=pl.Float64).alias("den_value"))
            elif units.get(ind.denominator or "") == "population":
                table = (
                    table.join(
                        frame.with_row_index("row").select(
                            pl.col("row").cast(pl.Int64), _number(pl.col(ind.denominator)).alias("den_value")
                        ),
                        on="row",
                    )
                    .with_columns(pl.lit(None, dtype=pl.Int64).alias("den"))
                    .filter(pl.col("den_value").is_not_null())
                )
            elif ds.summary:
                table = (
                    table.with_columns(
                        pl.concat_str("percent_base", pl.lit(ENGLAND_CODE), pl.lit(""), separator="#").alias(
                            "key"
                        )
                    )
                    .join(key_cell.rename({"cell": "den"}), on="key", how="inner")
                    .with_columns(pl.lit(None, dtype=pl.Float64).alias("den_value"))
                    .drop("key")
                )
            else:
                continue
            out.append(
                table.select(
                    "num",
                    "den",
                    "den_value",
                    pl.lit(_SCALES[ind.unit], dtype=pl.Int64).alias("scale"),
                    "tenths",
                )
            )
    schema = {
        "num": pl.Int64,
        "den": pl.Int64,
        "den_value": pl.Float64,
        "scale": pl.Int64,
        "tenths": pl.Int64,
    }
    return (
        pl.concat([o.cast(schema) for o in out]).unique(maintain_order=True)
        if out
        else pl.DataFrame(schema=schema)
    )


# ---------------------------------------------------------------------------------------- cheap checks
def linked_failures(system: PublishedSystem) -> pl.DataFrame:
    """Occurrences of one cell (same measure, geography, filters) published differently in two files."""
    occ = system.occurrences
    clash = occ.filter(pl.col("text").n_unique().over("cell") > 1)
    if clash.is_empty():
        return failures_frame([])
    shown = clash.group_by("cell").agg(
        pl.format("{} {} row {} = {}", "dataset", "column", "row", "text").sort().str.join("; ").alias("all")
    )
    return (
        clash.join(shown, on="cell")
        .select(
            "dataset",
            "row",
            "column",
            pl.lit("linked_cells").alias("rule"),
            pl.format("the same statistic is published differently: {}", "all").alias("message"),
        )
        .sort("dataset", "row", "column")
    )


def additive_failures(system: PublishedSystem) -> pl.DataFrame:
    """Relations whose only unknowns are suppressed cells and whose other members are exact: fail when a
    single cell is suppressed (it is the difference) or when the suppressed parts' known sum leaves
    some part provably below ``protection`` (two 1..5 cells hiding each other), or below 2 (pinned at 1)."""
    cfg = system.config
    bound = max(cfg.protection, 2)
    cells = system.cells.with_columns(
        (pl.col("rounded") & (pl.col("status") == "number") & (pl.col("number") > 0)).alias("fuzzy")
    )
    rel = system.relations.join(cells.select("cell", "status", "number", "fuzzy"), on="cell")
    per = rel.group_by("rel").agg(
        (pl.col("status") == "c").sum().alias("unknown"),
        (pl.col("fuzzy") | (pl.col("status") == "unknown")).any().alias("fuzzy"),
        ((pl.col("coef") > 0) & (pl.col("status") == "c")).any().alias("total_hidden"),
        (pl.col("coef") * pl.when(pl.col("status") == "number").then(pl.col("number")).otherwise(0))
        .sum()
        .alias("known"),
    )
    exact = per.filter(~pl.col("fuzzy") & (pl.col("unknown") > 0))
    lone = exact.filter(pl.col("unknown") == 1).with_columns(pl.lit("lone_suppressed").alias("rule"))
    # parts hidden, total published: the hidden parts sum to `known`, so the largest can be at most
    # known - (unknown - 1) (every other hidden part is at least 1)
    group = exact.filter(
        (pl.col("unknown") > 1) & ~pl.col("total_hidden") & (pl.col("known") - pl.col("unknown") + 1 < bound)
    ).with_columns(pl.lit("group_disclosure").alias("rule"))
    bad = pl.concat([lone, group])
    if bad.is_empty():
        return failures_frame([])
    message = {
        "lone_suppressed": "the only suppressed cell of a sum whose other cells are published exactly",
        "group_disclosure": f"suppressed cells of a sum whose hidden total leaves them below {bound}",
    }
    hit = rel.join(bad.select("rel", "rule"), on="rel").filter(pl.col("status") == "c")
    return (
        system.occurrences.join(hit.select("cell", "rel", "rule"), on="cell")
        .select(
            "dataset",
            "row",
            "column",
            "rule",
            pl.format("{} ({})", pl.col("rule").replace_strict(message), "rel").alias("message"),
        )
        .unique()
        .sort("dataset", "row", "column", "message")
    )


# ------------------------------------------------------------------------------------------- LP attack
@dataclass(frozen=True)
class AuditResult:
    """``intervals``: per suppressed cell the values the LP reached (lo, up: the true interval is at least
    this wide; exact when both ends were solved) and the integer bounds the relations imply (proven_lo,
    proven_up: it is at most this wide), and whether it is safe. ``report``: the same per published
    occurrence (file, row, column)."""

    intervals: pl.DataFrame
    failures: pl.DataFrame
    metadata: dict[str, float | int | str]
    report: pl.DataFrame


def _constraints(system: PublishedSystem, lo: np.ndarray, hi: np.ndarray, unknown: np.ndarray):
    """Equalities (relations) and inequalities (ratios) over all cells; ratios with a constant
    denominator (a population) tighten their count's bounds instead (in place)."""
    n = lo.size
    rel = system.relations
    rel_ids = rel.get_column("rel").rank("dense").cast(pl.Int64).to_numpy() - 1
    n_rel = int(rel_ids.max()) + 1 if rel_ids.size else 0
    A_eq = sp.csr_matrix(
        (rel.get_column("coef").to_numpy().astype(float), (rel_ids, rel.get_column("cell").to_numpy())),
        shape=(n_rel, n),
    )
    names = rel.select("rel").unique().sort("rel").get_column("rel").to_list()
    rows, cols, vals = [], [], []
    n_ub = 0
    for num, den, den_value, scale, tenths in system.ratios.iter_rows():
        s = 10.0 * scale  # tenths of a percent / of a rate per 10,000
        if den is None:
            if unknown[num]:
                lo[num] = max(lo[num], (tenths - 0.5) * den_value / s)
                hi[num] = min(hi[num], (tenths + 0.5) * den_value / s)
            continue
        rows += [n_ub, n_ub, n_ub + 1, n_ub + 1]
        cols += [num, den, num, den]
        vals += [s, -(tenths + 0.5), -s, tenths - 0.5]
        n_ub += 2
    le = system.inequalities
    le_ids = le.get_column("rel").rank("dense").cast(pl.Int64).to_numpy() - 1
    rows += (le_ids + n_ub).tolist()
    cols += le.get_column("cell").to_list()
    vals += le.get_column("coef").cast(pl.Float64).to_list()
    n_ub += int(le_ids.max()) + 1 if le_ids.size else 0
    A_ub = sp.csr_matrix((vals, (rows, cols)), shape=(n_ub, n))
    return A_eq, names, A_ub


def audit(system: PublishedSystem, exact: bool = False) -> AuditResult:
    """Attack every suppressed cell with linear programming over the whole published year.

    ``exact``: solve every suppressed cell's own min and max (slower; by default most cells are only
    shown to clear the bars, and ``lo``/``up`` are then proven bounds, not the extremes)."""
    started = time.perf_counter()
    cfg = system.config
    lo, hi, unknown = system.bounds()
    A_eq, rel_names, A_ub = _constraints(system, lo, hi, unknown)
    known = np.where(unknown, 0.0, lo)
    b_eq, b_ub = -(A_eq @ known), -(A_ub @ known)
    var = np.flatnonzero(unknown)
    A_eq, A_ub = A_eq[:, var].tocsr(), A_ub[:, var].tocsr()
    eq_live, ub_live = np.diff(A_eq.indptr) > 0, np.diff(A_ub.indptr) > 0
    # relations among exact published figures only must hold as they are
    broken = np.flatnonzero(~eq_live & (np.abs(b_eq) > _TOL))
    A_eq, b_eq = A_eq[eq_live], b_eq[eq_live]
    A_ub, b_ub = A_ub[ub_live], b_ub[ub_live]
    suppressed = (system.cells.get_column("status") == "c").to_numpy()[var]
    inc = sp.vstack([A_eq != 0, A_ub != 0]).astype(np.int8).tocsr()
    _, labels = connected_components(sp.bmat([[None, inc], [inc.T, None]], format="csr"), directed=False)
    nc = inc.shape[0]
    comp = labels[nc:]
    # integer interval reasoning: bounds every relation implies for whole numbers (outer bounds, where
    # the LP's are values it reached); it can pin a cell the relaxation leaves a fraction of room, and the
    # LP works within them (every whole-number solution does)
    p_lo, p_hi, moving = propagate(A_eq, b_eq, A_ub, b_ub, lo[var], hi[var])
    sound = p_lo <= p_hi
    attacker = _Attacker(
        A_eq,
        b_eq,
        A_ub,
        b_ub,
        np.where(sound, np.maximum(lo[var], p_lo), lo[var]),
        np.where(sound, np.minimum(hi[var], p_hi), hi[var]),
        comp,
        labels[: A_eq.shape[0]],
        labels[A_eq.shape[0] : nc],
    )
    targets = np.flatnonzero(suppressed)
    attacker.run(targets, cfg.protection, exact)
    t = targets

    def judged() -> tuple[np.ndarray, ...]:
        up = np.where(attacker.up[t] >= _HUGE - 1, np.inf, attacker.up[t])
        low = attacker.low[t]
        up_int = np.minimum(np.floor(up + _TOL), p_hi[t])
        lo_int = np.maximum(np.ceil(low - _TOL), p_lo[t])
        feasible = attacker.feasible[t] & (p_lo[t] <= p_hi[t])
        # a cell whose integer bounds were still tightening when propagation stopped is not shown safe
        clear = (up_int >= cfg.protection) & (up_int - lo_int >= 1) & ~moving[t]
        return up, low, feasible, feasible & clear

    up, low, feasible, safe = judged()
    # a cell the values reached do not clear gets its exact min and max (those values only bound them)
    unsure = t[~safe & ~attacker.solved[t] & feasible]
    if unsure.size:
        attacker.run(unsure, cfg.protection, exact=True)
        up, low, feasible, safe = judged()
    intervals = pl.DataFrame(
        {
            "cell": var[t].astype(np.int64),
            "lo": low,
            "up": up,
            "proven_lo": p_lo[t],
            "proven_up": p_hi[t],
            "exact": attacker.solved[t],
            "feasible": feasible,
            "settled": ~moving[t],
            "safe": safe,
        }
    )
    unsafe = intervals.filter(~pl.col("safe"))
    records = [_failure(row, cfg) for row in system.occurrences.join(unsafe, on="cell").iter_rows(named=True)]
    records += _broken_relations(system, [rel_names[i] for i in broken])
    comps = np.unique(comp[t])
    metadata: dict[str, float | int | str] = {
        "suppressed_cells": int(t.size),
        "unknowns": int(var.size),
        "relations": len(rel_names),
        "ratio_constraints": int(system.ratios.height),
        "components": int(comps.size),
        "largest_component": int(np.bincount(comp)[comps].max()) if comps.size else 0,
        "lp_solves": attacker.solves,
        "unsafe_cells": int(unsafe.height),
        "broken_relations": int(broken.size),
        "seconds": round(time.perf_counter() - started, 3),
    }
    report = (
        system.occurrences.select("dataset", "row", "column", "cell")
        .join(intervals, on="cell")
        .select("dataset", "row", "column", "lo", "up", "proven_lo", "proven_up", "safe")
        .sort("dataset", "row", "column")
    )
    return AuditResult(
        intervals=intervals, failures=failures_frame(records), metadata=metadata, report=report
    )


def _broken_relations(system: PublishedSystem, names: list[str]) -> list[dict]:
    if not names:
        return []
    members = system.relations.filter(pl.col("rel").is_in(names), pl.col("coef") > 0)
    named = system.occurrences.join(members.select("cell", "rel"), on="cell")
    return [
        {
            "dataset": r["dataset"],
            "row": r["row"],
            "column": r["column"],
            "rule": "sum_mismatch",
            "message": f"published figures do not add up ({r['rel']})",
        }
        for r in named.iter_rows(named=True)
    ]


def _failure(row: dict, cfg: DisclosureConfig) -> dict:
    where = {"dataset": row["dataset"], "row": row["row"], "column": row["column"]}
    if not row["feasible"]:
        return where | {
            "rule": "lp_inconsistent",
            "message": "the published figures around this cell contradict the descriptions' sums",
        }
    lo, up = max(row["lo"], row["proven_lo"]), min(row["up"], row["proven_up"])
    if not row["settled"]:
        return where | {
            "rule": "propagation_unsettled",
            "message": f"integer reasoning had not settled its bounds ({lo:.1f} to {up:.1f} so far): "
            "not shown protected",
        }
    span = f"[{lo:.1f}, {'inf' if np.isinf(up) else f'{up:.1f}'}]"
    if np.floor(up + _TOL) - np.ceil(lo - _TOL) < 1:
        return where | {"rule": "exact_disclosure", "message": f"an attacker can work it out exactly: {span}"}
    return where | {
        "rule": "protection_level",
        "message": f"an attacker can prove it lies in {span}, below {cfg.protection}",
    }


class _Attacker:
    """Bounds on the suppressed cells. Every LP is restricted to the components it concerns (they are
    independent). Joint LPs push cells up (to ``protection``, then one past the highest value seen)
    and down (one below the lowest seen); every solution is a feasible point, so the highest and lowest
    values seen are proven bounds. Cells these cannot clear get exact max and min LPs, one cell per
    component per LP (a sum of independent objectives optimises each)."""

    def __init__(self, A_eq, b_eq, A_ub, b_ub, lo, hi, comp, eq_comp, ub_comp) -> None:
        self.A_eq, self.b_eq, self.A_ub, self.b_ub = A_eq, b_eq, A_ub, b_ub
        self.lo, self.hi = lo, np.where(np.isinf(hi), _HUGE, hi)
        self.comp, self.eq_comp, self.ub_comp = comp, eq_comp, ub_comp
        n = lo.size
        self.up = np.full(n, -np.inf)
        self.low = np.full(n, np.inf)
        self.solved = np.zeros(n, dtype=bool)
        self.feasible = np.ones(n, dtype=bool)
        self.solves = 0

    def _lp(self, c: np.ndarray, comps: np.ndarray, helpers: tuple | None = None) -> np.ndarray | None:
        """Solve over ``comps``; ``helpers`` = (cells, caps, up) adds y per cell with y <= x, y <= cap
        (up) or y >= x, y >= cap (down). Returns x over all unknowns (nan outside) or None."""
        self.solves += 1
        cols = np.flatnonzero(np.isin(self.comp, comps))
        A_eq = self.A_eq[np.isin(self.eq_comp, comps)][:, cols]
        b_eq = self.b_eq[np.isin(self.eq_comp, comps)]
        A_ub = self.A_ub[np.isin(self.ub_comp, comps)][:, cols]
        b_ub = self.b_ub[np.isin(self.ub_comp, comps)]
        bounds = np.column_stack([self.lo[cols], self.hi[cols]])
        cost = c[cols]
        if helpers is not None:
            cells, caps, up = helpers
            k, n = cells.size, cols.size
            where = np.searchsorted(cols, cells)
            sign = 1.0 if up else -1.0
            rows = np.arange(k)
            link = sp.csr_matrix(
                (np.r_[np.full(k, -sign), np.full(k, sign)], (np.r_[rows, rows], np.r_[where, n + rows])),
                shape=(k, n + k),
            )
            A_eq = sp.hstack([A_eq, sp.csr_matrix((A_eq.shape[0], k))]).tocsr()
            A_ub = sp.vstack([sp.hstack([A_ub, sp.csr_matrix((A_ub.shape[0], k))]), link]).tocsr()
            b_ub = np.r_[b_ub, np.zeros(k)]
            extra = (
                np.column_stack([np.full(k, -np.inf), caps])
                if up
                else np.column_stack([caps, np.full(k, np.inf)])
            )
            bounds = np.vstack([bounds, extra])
            cost = np.r_[cost, np.full(k, -sign)]
        res = highs(cost, bounds, A_ub, b_ub, A_eq, b_eq)
        if res.status != 0:
            return None
        x = np.full(self.lo.size, np.nan)
        x[cols] = res.x[: cols.size]
        self.up[cols] = np.fmax(self.up[cols], x[cols])
        self.low[cols] = np.fmin(self.low[cols], x[cols])
        return x

    def _certified(self, cells: np.ndarray, protection: int) -> np.ndarray:
        up, lo = np.floor(self.up[cells] + _TOL), np.ceil(self.low[cells] - _TOL)
        return (up >= protection) & (up - lo >= 1)

    def _push(self, cells: np.ndarray, protection: int) -> np.ndarray:
        """Push ``cells`` up (to protection, or one past the highest seen) and the still uncertified down;
        returns the cells still uncertified."""
        comps = np.unique(self.comp[cells])
        caps = np.where(np.isfinite(self.up[cells]), np.maximum(protection, self.up[cells] + 1), protection)
        self._lp(np.zeros(self.lo.size), comps, (cells, caps, True))
        left = cells[~self._certified(cells, protection)]
        if left.size:
            self._lp(np.zeros(self.lo.size), np.unique(self.comp[left]), (left, self.low[left] - 1, False))
            left = left[~self._certified(left, protection)]
        return left

    def run(self, targets: np.ndarray, protection: int, exact: bool) -> None:
        if targets.size == 0:
            return
        comps = np.unique(self.comp[targets])
        reference = self._lp(np.zeros(self.lo.size), comps)
        if reference is None:
            # some component has no solution at all: find which, and leave those out
            bad = [c for c in comps if self._lp(np.zeros(self.lo.size), np.array([c])) is None]
            self.feasible[np.isin(self.comp, bad)] = False
            targets = targets[self.feasible[targets]]
            reference = (
                self._lp(np.zeros(self.lo.size), np.unique(self.comp[targets])) if targets.size else None
            )
        pending = targets
        if not exact:
            while pending.size:
                left = self._push(pending, protection)
                done = pending.size - left.size
                pending = left
                if done < _WORTHWHILE * (pending.size + done):
                    break
            for group in colour_classes(pending, self.A_eq):
                if group.size > 1:
                    left = self._push(group, protection)
                    pending = np.setdiff1d(pending, np.setdiff1d(group, left))
            for radius in (2, 4):
                if pending.size and reference is not None:
                    self._local(pending, protection, reference, radius)
                    pending = pending[~self._certified(pending, protection)]
        for sense in (-1.0, 1.0):  # maximise, then minimise
            for wave in waves(pending, self.comp):
                c = np.zeros(self.lo.size)
                c[wave] = sense
                self._lp(c, np.unique(self.comp[wave]))
        self.solved[pending] = True

    def _local(self, cells: np.ndarray, protection: int, reference: np.ndarray, radius: int) -> None:
        """Bound each cell over its own neighbourhood (unknowns within ``radius`` relations), everything else
        held at the feasible ``reference`` point: a restriction, so every solution is a feasible point
        of the whole year. One block up (capped one past what was seen, or at ``protection``) and one
        down per cell; many blocks stacked block-diagonally per solve."""
        A, A_c = self.A_eq, self.A_eq.tocsc()
        U, U_c = self.A_ub, self.A_ub.tocsc()
        adjacency = (A != 0).astype(np.int8)
        adjacency = (adjacency.T @ adjacency).tocsr()
        slack_ub = self.b_ub - U @ np.nan_to_num(reference)
        lo, hi = self.lo - reference, self.hi - reference
        blocks = []
        for k in cells:
            near = np.zeros(self.lo.size, dtype=bool)
            near[k] = True
            for _ in range(radius):
                near[adjacency[np.flatnonzero(near)].indices] = True
            local = np.flatnonzero(near)
            rows, ub_rows = np.unique(A_c[:, local].indices), np.unique(U_c[:, local].indices)
            at = int(np.searchsorted(local, k))
            up_cap = max(protection, self.up[k] + 1) - reference[k]
            down_cap = self.low[k] - 1 - reference[k]
            for sense, cap in ((1.0, up_cap), (-1.0, down_cap)):
                b = np.column_stack([lo[local], hi[local]])
                b[at] = (b[at, 0], min(b[at, 1], cap)) if sense > 0 else (max(b[at, 0], cap), b[at, 1])
                cost = np.zeros(local.size)
                cost[at] = -sense
                blocks.append((k, local, A[rows][:, local], U[ub_rows][:, local], slack_ub[ub_rows], b, cost))
        for start in range(0, len(blocks), _LOCAL_BLOCKS):
            self._solve_local(blocks[start : start + _LOCAL_BLOCKS], reference)

    def _solve_local(self, blocks, reference: np.ndarray) -> None:
        self.solves += 1
        res = highs(
            np.concatenate([b[6] for b in blocks]),
            np.vstack([b[5] for b in blocks]),
            A_ub=sp.block_diag([b[3] for b in blocks], format="csr"),
            b_ub=np.concatenate([b[4] for b in blocks]),
            A_eq=sp.block_diag([b[2] for b in blocks], format="csr"),
            b_eq=np.zeros(sum(b[2].shape[0] for b in blocks)),
        )
        if res.status != 0:
            return  # a cap may be out of reach: the exact LPs settle those cells
        at = 0
        for _, local, *_rest in blocks:
            x = reference[local] + res.x[at : at + local.size]
            at += local.size
            self.up[local] = np.fmax(self.up[local], x)
            self.low[local] = np.fmin(self.low[local], x)
