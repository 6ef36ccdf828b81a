"""Codes given to children and plans: the national mixes of children on plans and of plan categories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from cin_assets.synth import attributes, calibration
from cin_assets.synth.simulate import CIN, History, day


def _history(n: int, on_plan: np.ndarray) -> History:
    """``n`` children with one episode each, open over 31 March 2020; the children ``on_plan`` have a plan."""
    ref = np.full(n, day(dt.date(2019, 6, 1)))
    close = np.full(n, day(dt.date(2020, 6, 1)))
    plans = np.flatnonzero(on_plan)
    start = np.full(len(plans), day(dt.date(2019, 7, 1)))
    return History(
        children={"dob": np.full(n, day(dt.date(2012, 1, 1))), "last_ep": np.arange(n)},
        episodes={
            "child": np.arange(n),
            "ref": ref,
            "close": close,
            "kind": np.full(n, CIN, dtype=np.int8),
            "icpc": np.full(n, -1),
        },
        assessments={},
        s47={},
        cpps={"episode": plans, "start": start, "end": start + 400, "reviews": np.zeros((len(plans), 1))},
    )


def test_children_on_plans_have_a5s_gender_mix_and_all_children_a4s() -> None:
    n = 200_000
    on_plan = np.random.default_rng(1).random(n) < 0.15
    gender = attributes._genders(np.random.default_rng(2), _history(n, on_plan), None)
    codes, probs = calibration.distribution("gender_born")
    a4_boys = probs[list(codes).index("1")]
    a5 = calibration.national_figures().filter(
        (pl.col("dataset") == "A5") & (pl.col("indicator") == "CPP_At31")
    )
    count = {f.split("=")[-1]: float(v) for f, v in a5.select("filters", "value").iter_rows()}
    a5_boys = count["Male"] / (count["Male"] + count["Female"] + count["Unknown/Indeterminate gender"])
    assert np.mean(gender[on_plan] == "1") == pytest.approx(a5_boys, abs=0.005)  # 51% (A5 2020)
    assert np.mean(gender == "1") == pytest.approx(a4_boys, abs=0.005)  # 55% (A4 2020)
    assert a4_boys - a5_boys > 0.03


def test_plans_starting_get_the_mix_that_makes_a6s_plans_at_31_march() -> None:
    """Plans open at 31 March are a blend of the starting mixes of that year and the two before, in the
    shares of England's D5 bands; that blend is A6's mix (2020: multiple 2.6%, below 2019's 4.0%)."""
    starts = calibration.abuse_category_starts()
    d5 = calibration.national_d5()
    for year in (2018, 2019, 2020):
        codes, a6 = calibration.distribution(f"abuse_category@{year}")
        row = d5[year]
        w1, w2 = row["1_year_less_than_2_years"] / row["CPP_At31"], row["2_years_or_more"] / row["CPP_At31"]
        blend = (1 - w1 - w2) * starts[year][1] + w1 * starts[year - 1][1] + w2 * starts[year - 2][1]
        assert list(starts[year][0]) == list(codes)
        assert blend == pytest.approx(a6, abs=0.002)
    multiple = list(starts[2020][0]).index("MUL")
    assert starts[2020][1][multiple] < calibration.distribution("abuse_category@2020")[1][multiple]
