"""Output profiles: the ees layout and the 2020 layout from the one set of descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from cin_assets.datasets.catalogue import DATASETS
from cin_assets.publish import ees, profile, screener
from cin_assets.publish.provenance import provenance_markdown

FIXTURE = Path(__file__).with_name("fixtures") / "eesyscreener" / "files"
REPO = Path(__file__).resolve().parents[2]


# B6's eighth reason pair became RC8 (issue 14) after these files were screened; the values are unchanged.
_RENAMED = {
    "Reason_not_recorded": "RC8_Case_closed_after_assessment",
    "Reason_not_recorded_percent": "RC8_Case_closed_after_assessment_percent",
}


def _fixture_frame(code: str) -> pl.DataFrame:
    """The 2020-layout release frame the real screener saw (the project's files at scale 0.05), with the
    columns named as the catalogue names them today."""
    frame = pl.read_csv(FIXTURE / f"{DATASETS[code].stem}.csv", infer_schema=False)
    return frame.rename({k: v for k, v in _RENAMED.items() if k in frame.columns})


def test_snake_case_names() -> None:
    assert profile.snake_case("2_years+") == "duration_2_years_plus"
    assert profile.snake_case("1-10_days") == "duration_1_to_10_days"
    assert profile.snake_case("CPP_At31") == "cpp_at31"
    assert profile.EES.column("Re_referrals") == "rereferral_count"  # DfE's data dictionary name
    assert profile.RELEASE_2020.column("Re_referrals") == "Re_referrals"


@pytest.mark.parametrize("code", sorted(DATASETS))
def test_ees_names_are_snake_case_unique_and_start_with_a_letter(code: str) -> None:
    out = profile.published(DATASETS[code], profile.EES)
    assert len(set(out.columns)) == len(out.columns)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in out.columns), out.columns
    assert all(f.total or f.default for f in out.filters if len(f.values) > 1)


def test_release2020_is_the_description_itself() -> None:
    for ds in DATASETS.values():
        assert profile.published(ds, profile.RELEASE_2020) == ds
    frame = _fixture_frame("C1")
    assert profile.published_frame(DATASETS["C1"], frame, profile.RELEASE_2020).equals(frame)


@pytest.mark.parametrize("code", sorted(DATASETS))
def test_ees_layout_of_the_screened_files_passes_the_screener(code: str) -> None:
    """The files the real screener failed, laid out in the ees profile: no FAIL, same cells."""
    ds = DATASETS[code]
    frame = _fixture_frame(code)
    # columns first published after 2020 (C3's later factors) are not available in the fixture's years
    frame = frame.with_columns(
        pl.lit(profile.CANONICAL_NOT_AVAILABLE).alias(c) for c in ds.columns if c not in frame.columns
    ).select(ds.columns)
    out_ds = profile.published(ds, profile.EES)
    out = profile.published_frame(ds, frame, profile.EES)
    files = ees.data_set_files(out_ds, out)
    data, meta = list(files)
    results = screener.screen(data, files[data], meta, files[meta])
    assert [r.check for r in results if r.result == "FAIL"] == []
    assert ":" not in set(out.select(pl.col(i.name for i in out_ds.indicators)).unpivot()["value"])
    if code != "A4":
        assert out.height == frame.height


def test_a4_ethnic_groups_become_a_filter_with_one_count() -> None:
    frame = _fixture_frame("A4")
    out = profile.published_frame(DATASETS["A4"], frame, profile.EES)
    assert out.height == frame.height * 7  # Total and six groups; Ethnicity_Known (Total - Unknown) dropped
    first = frame.row(0, named=True)
    cells = out.head(7).select("ethnicity_major", "cin_at31").rows()
    assert cells == [
        ("Total", first["CIN_At31"]),
        ("White", first["Ethnicity_White"]),
        ("Mixed / Multiple ethnic groups", first["Ethnicity_Mixed"]),
        ("Asian / Asian British", first["Ethnicity_Asian_or_Asian_British"]),
        ("Black / African / Caribbean / Black British", first["Ethnicity_Black_or_Black_British"]),
        ("Other ethnic group", first["Ethnicity_Other"]),
        ("Unknown", first["Ethnicity_Not_known"]),
    ]


def test_characteristics_split_into_sex_and_age_group() -> None:
    frame = _fixture_frame("A3")
    out = profile.published_frame(DATASETS["A3"], frame, profile.EES)
    pairs = set(out.select("sex", "age_group").rows())
    assert ("Total", "Total") in pairs and ("Female", "Total") in pairs and ("Total", "Unborn") in pairs
    assert ("Total", "Under 1") in pairs and len(pairs) == out.filter(pl.col("time_period") == "2020").height


def test_profile_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIN_PROFILE", raising=False)
    monkeypatch.delenv("PROFILE", raising=False)
    assert profile.get_profile().name == "ees" and profile.not_available_symbol() == "x"
    monkeypatch.setenv("PROFILE", "release2020")
    assert profile.get_profile().name == "release2020" and profile.not_available_symbol() == ":"
    monkeypatch.setenv("CIN_PROFILE", "ees")
    assert profile.get_profile().name == "ees"
    with pytest.raises(ValueError, match="unknown output profile"):
        profile.get_profile("ees2")


def test_years_in_file_names_and_titles() -> None:
    a1 = profile.with_years(DATASETS["A1"], 2019, 2020)
    assert a1.stem == "a1_cin_referrals_assessments_2019_to_2020" and a1.title.endswith(", 2019 to 2020")
    assert profile.with_years(DATASETS["P"], 2020, 2020).stem == "ons_population_0_17_2019"


def test_unknown_gender_has_one_label() -> None:
    labels = {
        v for ds in DATASETS.values() for f in ds.filters for v in f.values if v.lower().startswith("unknown")
    }
    assert labels == {"Unknown or indeterminate gender"}


def test_developer_provenance_document_is_current() -> None:
    """Regenerate with: python -m cin_assets.publish.provenance > docs/data_set_provenance.md"""
    assert (REPO / "docs" / "data_set_provenance.md").read_text() == provenance_markdown(DATASETS)
