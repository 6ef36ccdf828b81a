"""``protect_year``: suppress, round and format one reporting year's release, and explain every ``c``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cin_assets.datasets.description import DataSet
from cin_assets.disclosure.config import ROUNDED_LEVELS, DisclosureConfig
from cin_assets.disclosure.model import Model, build_model, indicator_applies
from cin_assets.disclosure.rounding import format_scaled, round_count, scaled_half_up
from cin_assets.disclosure.suppress import Pattern, suppress

REPORT_SCHEMA = {
    "dataset": pl.String,
    "time_period": pl.String,
    "geographic_level": pl.String,
    "geography_code": pl.String,
    "geography_name": pl.String,
    "filters": pl.String,
    "column": pl.String,
    "kind": pl.String,
    "protects": pl.String,
    "note": pl.String,
}
LAST_RESORT = (
    "England total hidden as a last resort: every other cell around the cell it protects is already "
    "suppressed or zero"
)


@dataclass(frozen=True)
class ProtectedYear:
    """A protected release year.

    ``published``: data set code -> the unprotected frame's rows and columns with every indicator column a
    string (rounded value or symbol). ``report``: one row per ``c`` in every file: ``kind`` is
    ``primary`` (a count of 1..threshold), ``secondary`` (suppressed so a primary cannot be worked out;
    ``protects`` names the relation and the cell it protects) or ``derived`` (a percentage, rate or days
    statistic of a suppressed count); ``geography_name`` and ``filters`` (every filter, totals included)
    say where, ``note`` flags an England total hidden as a last resort. ``stats``: how the suppression ran
    (cells, primaries, secondaries, LP solves, England totals hidden, seconds)."""

    published: dict[str, pl.DataFrame]
    report: pl.DataFrame
    stats: dict[str, float | int] = field(default_factory=dict)


def protect_year(
    frames: Mapping[str, pl.DataFrame],
    datasets: Mapping[str, DataSet],
    config: DisclosureConfig = DisclosureConfig(),  # noqa: B008 - frozen, so a shared default is safe
) -> ProtectedYear:
    """Protect every data set of one reporting year together (they share cells and relations)."""
    model = build_model(frames, datasets, config)
    pattern = suppress(model)
    published = {code: _publish(datasets[code], frames[code], model, pattern) for code in sorted(frames)}
    stats = {
        "count_cells": model.n,
        "primary": int(pattern.primary.sum()),
        "secondary": int(pattern.secondary.sum()),
        **pattern.stats,
    }
    return ProtectedYear(published=published, report=_report(model, pattern), stats=stats)


def _suppressed_by_column(model: Model, pattern: Pattern, code: str, height: int) -> dict[str, np.ndarray]:
    occ = model.occurrences.filter(pl.col("dataset") == code)
    out = {}
    for column, part in occ.partition_by("column", as_dict=True).items():
        flags = np.zeros(height, dtype=bool)
        flags[part.get_column("row").to_numpy()] = pattern.suppressed[part.get_column("cell").to_numpy()]
        out[column[0]] = flags
    return out


def _derived_flags(model: Model, pattern: Pattern, code: str, height: int) -> dict[str, np.ndarray]:
    derived = model.derived.filter(pl.col("dataset") == code)
    out = {}
    for column, part in derived.partition_by("column", as_dict=True).items():
        exploded = part.select("row", "depends").explode("depends").drop_nulls()
        flags = np.zeros(height, dtype=bool)
        if exploded.height:
            hit = pattern.suppressed[exploded.get_column("depends").to_numpy()]
            np.logical_or.at(flags, exploded.get_column("row").to_numpy()[hit], True)
        out[column[0]] = flags
    return out


def _publish(ds: DataSet, frame: pl.DataFrame, model: Model, pattern: Pattern) -> pl.DataFrame:
    cfg = model.config
    height = frame.height
    counts = _suppressed_by_column(model, pattern, ds.code, height)
    derived = _derived_flags(model, pattern, ds.code, height)
    scaled = model.scaled[ds.code]
    rounded = pl.col("geographic_level").is_in(ROUNDED_LEVELS)
    columns = []
    for ind in ds.indicators:
        value = pl.col(ind.name)
        hidden = pl.lit(pl.Series(np.zeros(height, dtype=bool)))
        if ind.unit == "count":
            hidden = pl.lit(pl.Series(counts.get(ind.name, np.zeros(height, dtype=bool))))
            count = value.cast(pl.Int64)
            number = (
                pl.when(rounded).then(round_count(count, cfg.rounding_base)).otherwise(count).cast(pl.String)
            )
        elif ind.unit == "population":
            number = (
                pl.when(value.is_not_null()).then(scaled_half_up(value.cast(pl.Float64), 0)).cast(pl.String)
            )
        else:
            hidden = pl.lit(pl.Series(derived.get(ind.name, np.zeros(height, dtype=bool))))
            number = format_scaled(pl.lit(scaled.get_column(ind.name)), ind.decimal_places)
        applies = pl.lit(indicator_applies(ind, frame))
        text = (
            pl.when(~applies)
            .then(pl.lit(cfg.not_applicable))
            .when(number.is_null())
            .then(pl.lit(cfg.not_available))
            .when(hidden)
            .then(pl.lit(cfg.suppressed))
            .otherwise(number)
        )
        columns.append(text.alias(ind.name))
    keep = [c for c in frame.columns if c not in {i.name for i in ds.indicators}]
    return frame.select(*keep, *columns).select(ds.columns)


def _report(model: Model, pattern: Pattern) -> pl.DataFrame:
    """One row per ``c`` in every file, with why it is there."""
    labels = model.labels
    protects = []
    for cell in np.flatnonzero(pattern.suppressed):
        if pattern.primary[cell]:
            protects.append("")
            continue
        target = int(pattern.reason_cell[cell])
        relation = pattern.reason_relation[cell] or "given as already suppressed"
        if target < 0:
            protects.append(relation)
            continue
        root = pattern.root(int(cell))
        chain = f" (which protects {labels[root]})" if root != target else ""
        protects.append(f"{relation}; protects {labels[target]}{chain}")
    hidden = np.flatnonzero(pattern.suppressed)
    cells = pl.DataFrame(
        {
            "cell": hidden.astype(np.int64),
            "kind": np.where(pattern.primary[hidden], "primary", "secondary"),
            "protects": protects,
            "note": np.where(pattern.england_hidden[hidden], LAST_RESORT, ""),
        },
        schema={"cell": pl.Int64, "kind": pl.String, "protects": pl.String, "note": pl.String},
    )
    rows = model.rows.select(
        "dataset",
        "row",
        "time_period",
        pl.col("level").alias("geographic_level"),
        pl.col("geo").alias("geography_code"),
        pl.col("geo_name").alias("geography_name"),
        pl.col("all_filters").alias("filters"),
    )
    counted = model.occurrences.join(cells, on="cell").join(rows, on=["dataset", "row"])
    names = model.occurrences.select(
        "dataset", "row", pl.col("cell").alias("depends"), pl.col("column").alias("dep")
    )
    derived = (
        model.derived.explode("depends")
        .join(cells.select(pl.col("cell").alias("depends")), on="depends")
        .join(names, on=["dataset", "row", "depends"], how="left")
        .group_by("dataset", "row", "column")
        .agg(pl.col("dep").drop_nulls().unique().sort().str.join(", "))
        .with_columns(
            pl.lit("derived").alias("kind"),
            pl.lit("").alias("note"),
            pl.format(
                "computed from suppressed {}", pl.col("dep").replace("", "counts of another file")
            ).alias("protects"),
        )
        .join(rows, on=["dataset", "row"])
    )
    columns = [*REPORT_SCHEMA, "row"]
    return (
        pl.concat([counted.select(columns), derived.select(columns)])
        .cast(pl.Schema(REPORT_SCHEMA))
        .sort("dataset", "row", "column")
        .drop("row")
    )


def suppression_summary(protected: ProtectedYear, datasets: Mapping[str, DataSet]) -> pl.DataFrame:
    """Per data set: indicator cells published and how many are primary, secondary and derived ``c``,
    with the suppressed share (for Dagster metadata; no cell values)."""
    shapes = pl.DataFrame(
        {
            "dataset": list(protected.published),
            "cells": [
                frame.height * len(datasets[code].indicators) for code, frame in protected.published.items()
            ],
        },
        schema={"dataset": pl.String, "cells": pl.Int64},
    )
    kinds = ("primary", "secondary", "derived")
    counts = protected.report.group_by("dataset").agg((pl.col("kind") == k).sum().alias(k) for k in kinds)
    return (
        shapes.join(counts, on="dataset", how="left")
        .with_columns(pl.col(k).fill_null(0).cast(pl.Int64) for k in kinds)
        .with_columns(pl.sum_horizontal(kinds).alias("suppressed"))
        .with_columns(
            pl.when(pl.col("cells") > 0)
            .then((100 * pl.col("suppressed") / pl.col("cells")).round(2))
            .otherwise(0.0)
            .alias("suppressed_percent")
        )
        .sort("dataset")
    )


def summary_metadata(summary: pl.DataFrame, code: str) -> dict[str, int | float]:
    """One data set's row of :func:`suppression_summary` as a flat metadata dict."""
    row = summary.filter(pl.col("dataset") == code)
    if row.is_empty():
        return {
            "cells": 0,
            "primary": 0,
            "secondary": 0,
            "derived": 0,
            "suppressed": 0,
            "suppressed_percent": 0.0,
        }
    return {k: v for k, v in row.row(0, named=True).items() if k != "dataset"}
