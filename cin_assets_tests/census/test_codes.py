"""The census vocabulary: each year's code lists follow the documented collection changes."""

from __future__ import annotations

import pytest

from cin_assets.census import codes, tables


@pytest.mark.parametrize("year", range(2013, 2027))
def test_each_year_has_its_factors_in_one_order(year: int) -> None:
    factors = codes.code_lists(year).factors
    assert len(set(factors)) == len(factors)
    assert set(factors) <= set(codes.FACTORS)
    later = {c for c, first in codes.FACTOR_FROM.items() if year < first}
    assert set(codes.FACTORS) - set(factors) == later
    assert codes.NO_FACTORS in factors


def test_factor_changes_land_in_their_years() -> None:
    assert "18B" not in codes.code_lists(2020).factors
    assert {"18B", "18C", "19B", "19C"} <= set(codes.code_lists(2021).factors)
    assert "24A" not in codes.code_lists(2021).factors
    assert "24A" in codes.code_lists(2022).factors
    assert codes.factors_first_year(("8B", "8C")) is None
    assert codes.factors_first_year(("18A", "18B")) == 2021


def test_rc9_5d_and_sex_from_their_collections() -> None:
    assert codes.code_lists(2022).closed_after_assessment == ("RC8",)
    assert codes.code_lists(2023).closed_after_assessment == ("RC8", "RC9")
    assert "RC9" in codes.code_lists(2023).closure_reason
    assert "5D" not in codes.code_lists(2022).referral_source
    assert "5D" in codes.code_lists(2023).referral_source
    for year in (2024, 2025):
        lists = codes.code_lists(year)
        assert tables.element_in_year(lists.gender_field, year)
        assert lists.unborn_gender in lists.gender


def test_ethnic_groups_cover_every_stated_ethnicity() -> None:
    grouped = [c for group in codes.ETHNIC_GROUPS.values() for c in group]
    assert len(grouped) == len(set(grouped))
    assert set(codes.ETHNICITY) - set(grouped) == {"REFU", "NOBT"}
