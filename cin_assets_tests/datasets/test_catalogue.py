"""The 28 descriptions: names, labels, links between files and the published reference columns."""

from __future__ import annotations

import re

import polars as pl
import pytest

from cin_assets import reference
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.description import Count, DataSet, Statistic
from cin_assets.measures.calibration import CALIBRATED

STEMS = {
    "A1": "a1_cin_referrals_assessments_2013_to_2020",
    "A2": "a2_s47_icpc_cpp_2013_to_2020",
    "A3": "a3_cin_primary_need_by_age_gender_2018_to_2020",
    "A4": "a4_cin_by_ethnicity_age_gender_2018_to_2020",
    "A5": "a5_cpp_initial_category_by_age_gender_ethnicity_2018_to_2020",
    "A6": "a6_cpp_initial_category_2013_to_2020",
    "A7": "a7_cin_by_age_gender_ethnicity_2015_to_2020",
    "B1": "b1_children_in_need_2013_to_2020",
    "B2": "b2_cin_disability_2013_to_2020",
    "B3": "b3_cin_primary_need_2013_to_2020",
    "B4": "b4_cin_duration_of_open_episode_2013_to_2020",
    "B5": "b5_cin_duration_of_ended_episode_2013_to_2020",
    "B6": "b6_cin_reason_for_closure_2013_to_2020",
    "C1": "c1_referrals_and_rereferrals_2013_to_2020",
    "C2": "c2_assessments_duration_2014_to_2020",
    "C3": "c3_factors_at_end_of_assessment_2018_to_2020",
    "C4": "c4_section47_and_icpc_2013_to_2020",
    "C5": "c5_referrals_by_source_2014_to_2020",
    "D1": "d1_cpp_2013_to_2020",
    "D2": "d2_cpp_starting_by_category_2013_to_2020",
    "D3": "d3_cpp_subsequent_plan_2013_to_2020",
    "D4": "d4_cpp_at31march_by_category_2013_to_2020",
    "D5": "d5_cpp_at31march_by_duration_2013_to_2020",
    "D6": "d6_cpp_reviewed_within_timescales_2013_to_2020",
    "D7": "d7_cpp_ended_by_duration_2013_to_2020",
    "D8": "d8_cpp_ended_by_time_remaining_in_need_2013_to_2020",
    "H": "headline_figures_2020",
    "P": "ons_population_0_17_2012_to_2019",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-]*$")


def test_the_release_has_its_28_files() -> None:
    assert {code: ds.stem for code, ds in DATASETS.items()} == STEMS
    assert list(DATASETS) == list(STEMS)


@pytest.mark.parametrize("ds", DATASETS.values(), ids=list(DATASETS))
def test_columns_labels_and_references_are_well_formed(ds: DataSet) -> None:
    assert len(set(ds.columns)) == len(ds.columns)
    names = [i.name for i in ds.indicators]
    labels = [i.label for i in ds.indicators] + [f.label for f in ds.filters]
    assert len(set(labels)) == len(labels), "EES labels must be unique"
    for ind in ds.indicators:
        assert _NAME.match(ind.name) and len(ind.name) <= 50, ind.name
        assert 0 < len(ind.label) <= 80, ind.label
        assert ind.definition.strip(), ind.name
        for ref in ind.depends_on:
            assert ref in names and ds.indicator(ref).unit == "count", (ind.name, ref)
        if ind.unit == "percent" and not ds.summary:
            assert ind.numerator and ind.denominator
        if ind.unit == "count" and not ds.summary:
            assert isinstance(ind.rule, Count), ind.name
        if ind.unit == "days":
            assert isinstance(ind.rule, Statistic) and ind.of
    counts = {i.name for i in ds.counts()}
    for s in ds.column_sums:
        assert s.total in counts and set(s.parts) <= counts and len(s.parts) > 1
    filters = {f.name: f for f in ds.filters}
    for s in ds.row_sums:
        for mapping in (s.total, *s.parts):
            assert all(v in filters[k].values for k, v in mapping.items())
    for row in ds.rows:
        assert set(row.values) == set(filters)
        assert all(v in filters[k].values for k, v in row.values.items())
    for f in ds.filters:
        assert f.group is None or f.group in filters
        assert f.total is None or f.total in f.values
    assert ds.first_year <= ds.last_year
    assert ds.footnotes and ds.provenance


def test_one_measure_is_one_statistic_across_files() -> None:
    """Cells linked by measure id must be counted the same way, with the same definition."""
    seen: dict[str, tuple[str, str, str]] = {}
    for ds in DATASETS.values():
        for ind in ds.counts():
            if ind.rule is None:
                continue
            rule = ind.rule
            signature = (rule.table, str(rule.where), str(rule.children), ind.definition)
            key = ind.measure_id
            if key in seen:
                assert seen[key][1:] == (signature, ind.definition), (key, ds.code, seen[key][0])
            seen[key] = (ds.code, signature, ind.definition)


def test_calibrated_and_reference_measures_use_the_published_column_names() -> None:
    columns = {code: {i.name for i in ds.indicators} for code, ds in DATASETS.items()}
    for code, name in CALIBRATED:
        assert name in columns[code], (code, name)
    published = reference.published_indicators().select("source_id", "indicator").unique()
    file_of = {"E23B1": "B1", "E23C1": "C1", "E25C4": "C4", "E23D3": "D3", "E23D5": "D5"}
    file_of |= {"E25B1": "B1", "E25C1": "C1", "E25D3": "D3", "E25D5": "D5"}  # 2021-2025 rows
    for source, indicator in published.filter(~pl.col("indicator").str.ends_with("_revpop")).iter_rows():
        assert indicator in columns[file_of[source]], (source, indicator)
    factors = set(pl.read_csv(reference.reference_dir() / "published_assessment_factors.csv")["indicator"])
    assert factors <= columns["C3"]  # incl. the later factors, not available before their year
    late = {i.name: i.first_year for i in DATASETS["C3"].indicators if i.first_year}
    assert late == {c: 2021 for c in factors if "_on_child" in c} | {"Child_criminal_exploitation": 2022}


@pytest.mark.parametrize("ds", DATASETS.values(), ids=list(DATASETS))
def test_every_indicator_says_which_dfe_text_defines_it(ds: DataSet) -> None:
    for ind in ds.indicators:
        source = ds.source_of(ind.name)
        assert source, (ds.code, ind.name)
        # a DfE text is named, or the description says what it reproduces where DfE is silent
        assert "DfE" in source or "LAIT" in source or "Republishes" in source, (ds.code, ind.name, source)
