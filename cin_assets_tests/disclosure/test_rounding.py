"""Half-up rounding without float traps (spec 3.2: polars and Python round halves to even)."""

from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cin_assets.disclosure.config import DisclosureConfig, disclosure_config
from cin_assets.disclosure.rounding import format_scaled, round_count, scaled_half_up, tenths_of_ratio

FAST = settings(max_examples=200, derandomize=True, deadline=None, database=None)


def _half_up(x: Fraction) -> int:
    """Exact round-half-up of a non-negative rational to an integer."""
    return int((x + Fraction(1, 2)).__floor__())


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0), (4, 0), (5, 10), (6, 10), (14, 10), (15, 20), (25, 30), (389259, 389260)]
)
def test_counts_round_to_ten_halves_up(value: int, expected: int) -> None:
    assert pl.select(round_count(pl.lit(value), 10)).item() == expected


def test_odd_rounding_base() -> None:
    assert pl.select(round_count(pl.Series([2, 3, 7, 8]), 5)).to_series().to_list() == [0, 5, 5, 10]


@pytest.mark.parametrize(
    ("num", "den", "tenths"),
    [
        (3, 20, 150),
        (1, 8, 125),
        (3, 2000, 2),
        (1, 2000, 1),
        (1, 3, 333),
        (2, 3, 667),
        (0, 7, 0),
        (7, 7, 1000),
    ],
)
def test_percent_tenths_exact(num: int, den: int, tenths: int) -> None:
    assert pl.select(tenths_of_ratio(pl.lit(num), pl.lit(den), 100)).item() == tenths


@FAST
@given(st.integers(0, 2_000_000), st.integers(1, 2_000_000))
def test_percent_tenths_match_exact_arithmetic(num: int, den: int) -> None:
    got = pl.select(tenths_of_ratio(pl.lit(num), pl.lit(den), 100)).item()
    assert got == _half_up(Fraction(1000 * num, den))


@FAST
@given(st.integers(0, 50_000), st.integers(1_000, 10_000_000))
def test_rates_from_floats_round_like_exact_arithmetic(num: int, population: int) -> None:
    """A rate only exists as a float; rounding it must agree with exact arithmetic, halves included."""
    rate = 10_000 * num / population
    got = pl.select(scaled_half_up(pl.lit(rate), 1)).item()
    assert got == _half_up(Fraction(100_000 * num, population))


@pytest.mark.parametrize(("value", "tenths"), [(0.15, 2), (0.25, 3), (1.05, 11), (12.25, 123), (0.04999, 0)])
def test_float_halves_go_up(value: float, tenths: int) -> None:
    assert pl.select(scaled_half_up(pl.lit(value), 1)).item() == tenths


def test_days_round_half_up_to_whole_numbers() -> None:
    out = pl.select(scaled_half_up(pl.Series([2.5, 3.5, 10.49, 0.0]), 0)).to_series().to_list()
    assert out == [3, 4, 10, 0]


def test_format_keeps_one_decimal_place() -> None:
    out = pl.select(format_scaled(pl.Series([0, 5, 123, 1000]), 1)).to_series().to_list()
    assert out == ["0.0", "0.5", "12.3", "100.0"]


@pytest.mark.parametrize(
    ("published", "interval"), [(0, (0, 0)), (10, (6, 14)), (250, (245, 254)), (20, (15, 24))]
)
def test_rounded_interval_of_a_published_count(published: int, interval: tuple[int, int]) -> None:
    """What a published England/regional count tells an attacker (1..5 would have been suppressed)."""
    assert DisclosureConfig().rounded_interval(published) == interval


def test_suppression_rules_by_name_and_from_the_environment(monkeypatch) -> None:
    """``dfe`` (the default) only rules out exact recovery; ``strict`` also keeps a count from being
    proven below 6; ``$CIN_SUPPRESSION`` chooses when no name is given."""
    assert DisclosureConfig().rule == disclosure_config().rule == "dfe"
    assert disclosure_config().protection == 1
    assert disclosure_config("strict").protection == 6 and disclosure_config("strict").rule == "strict"
    monkeypatch.setenv("CIN_SUPPRESSION", "strict")
    assert disclosure_config().rule == "strict"
    with pytest.raises(ValueError, match="unknown suppression rule 'loose': choose one of dfe, strict"):
        disclosure_config("loose")


def test_config_rejects_inconsistent_policy() -> None:
    with pytest.raises(ValueError, match="protection"):
        DisclosureConfig(threshold=5, protection=0)
    with pytest.raises(ValueError, match="symbols"):
        DisclosureConfig(not_available="c")
