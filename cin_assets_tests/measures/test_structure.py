"""Every data set built from a random census keeps the contract the disclosure stage relies on:
types and columns, geography sums, column sums and row sums on unrounded values."""

from __future__ import annotations

import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.measures import build, requirements, schema
from cin_assets_tests.measures.census_builder import random_census

YEAR = 2020


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    tables, previous = random_census(YEAR, seed=1), random_census(YEAR - 1, seed=2)
    out: dict[str, pl.DataFrame] = {}
    for code, ds in DATASETS.items():
        if not requirements(ds).sources:
            out[code] = build(ds, YEAR, tables, previous)
    for code, ds in DATASETS.items():
        if requirements(ds).sources:
            out[code] = build(ds, YEAR, sources=out)
    return out


@pytest.mark.parametrize("code", list(DATASETS))
def test_frame_has_the_described_columns_and_types(frames: dict[str, pl.DataFrame], code: str) -> None:
    ds = DATASETS[code]
    frame = frames[code]
    assert frame.schema == pl.Schema(schema(ds))
    assert tuple(frame.columns) == ds.columns
    assert frame.height > 0
    counts = [i.name for i in ds.counts()]
    if counts:
        assert frame.select(pl.min_horizontal(pl.col(counts).min())).item() >= 0
    if ds.rows:
        keys = [f.name for f in ds.filters]
        assert frame.select(keys).unique().height == len(ds.rows)
        assert set(frame[ds.filters[-1].name]) <= set(ds.filters[-1].values)


@pytest.mark.parametrize("code", [c for c, d in DATASETS.items() if d.geography == "la" and d.counts()])
def test_regions_and_england_are_sums_of_local_authorities(
    frames: dict[str, pl.DataFrame], code: str
) -> None:
    ds = DATASETS[code]
    frame = frames[code]
    counts = [i.name for i in ds.counts()]
    las = frame.filter(pl.col("geographic_level") == "Local authority")
    regions = frame.filter(pl.col("geographic_level") == "Regional")
    by_region = las.group_by("region_code").agg(pl.col(counts).sum())
    # London boroughs carry Inner/Outer London as their region: London itself is checked below
    joined = regions.filter(pl.col("region_code") != "E12000007").join(
        by_region, on="region_code", how="left", suffix="_sum"
    )
    for c in counts:
        assert (joined[c] == joined[f"{c}_sum"].fill_null(0)).all(), c
    e12 = regions.filter(pl.col("region_code").str.starts_with("E12"))
    england = frame.filter(pl.col("geographic_level") == "National")
    london = regions.filter(pl.col("region_code") == "E12000007")
    inner_outer = regions.filter(pl.col("region_code").str.starts_with("E13"))
    for c in counts:
        if las[c].is_null().all():  # a column not collected this year: not available everywhere
            assert frame[c].is_null().all(), c
            continue
        assert england[c].item() == e12[c].sum() == las[c].sum(), c
        assert london[c].item() == inner_outer[c].sum(), c


@pytest.mark.parametrize("code", [c for c, d in DATASETS.items() if d.column_sums])
def test_column_sums_hold(frames: dict[str, pl.DataFrame], code: str) -> None:
    frame = frames[code]
    for rule in DATASETS[code].column_sums:
        parts = frame.select(pl.sum_horizontal(rule.parts)).to_series()
        assert (frame[rule.total] == parts).all(), rule.total
        assert frame[rule.total].sum() > 0


@pytest.mark.parametrize("code", [c for c, d in DATASETS.items() if d.row_sums])
def test_row_sums_hold(frames: dict[str, pl.DataFrame], code: str) -> None:
    ds = DATASETS[code]
    frame = frames[code]
    counts = [i.name for i in ds.counts()]
    for rule in ds.row_sums:
        # for every combination of the other filters (and geography), total = sum of the parts
        others = [c for c in (*ds.geography_columns, *ds.filter_columns) if c not in rule.total]
        total = frame.filter(*(pl.col(k) == v for k, v in rule.total.items())).select(*others, *counts)
        parts = (
            pl.concat([frame.filter(*(pl.col(k) == v for k, v in p.items())) for p in rule.parts])
            .group_by(others)
            .agg(pl.col(counts).sum())
        )
        joined = total.join(parts, on=others, how="full", suffix="_parts", nulls_equal=True)
        assert joined.height == total.height > 0
        for c in counts:
            assert (joined[c] == joined[f"{c}_parts"]).all(), (rule.total, c)


def test_linked_cells_have_one_value(frames: dict[str, pl.DataFrame]) -> None:
    """A measure published in several files has the same England value everywhere (filters at total)."""
    seen: dict[str, tuple[str, int]] = {}
    for code, ds in DATASETS.items():
        frame = frames[code]
        totals = [pl.col(f.name) == f.total for f in ds.filters if f.total]
        if (ds.filters and not totals) or ds.summary:
            continue
        england = frame.filter(pl.col("geographic_level") == "National", *totals)
        for ind in ds.counts():
            got = england[ind.name].item()
            if ind.measure_id in seen:
                assert seen[ind.measure_id][1] == got, (ind.measure_id, code, seen[ind.measure_id][0])
            seen[ind.measure_id] = (code, got)


def test_summaries_match_their_sources(frames: dict[str, pl.DataFrame]) -> None:
    for code, ds in DATASETS.items():
        for item in ds.summary:
            row = frames[code].filter(*(pl.col(k) == v for k, v in item.values.items()))
            source = frames[item.source].filter(pl.col("geographic_level") == "National")
            assert row["number"].item() == source[item.column].item(), (code, item.column)
