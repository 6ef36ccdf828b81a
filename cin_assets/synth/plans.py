"""Turn calibration targets into one LA's yearly simulation plans (real years plus warm-up years)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl

from cin_assets import reference
from cin_assets.census import calendar, lookback
from cin_assets.synth import calibration
from cin_assets.synth.simulate import FREE_YEARS, WARMUP_YEARS, Params, YearPlan

_DAYS_PER_YEAR = 365.25


def _bands(category: str, ref: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A national_shares duration category ("lo-hi" codes) as (lo, hi, probability) arrays."""
    codes, probs = calibration.distribution(category, ref)
    lo = np.array([int(c.split("-")[0]) for c in codes], dtype=np.int64)
    hi = np.array([int(c.split("-")[1]) for c in codes], dtype=np.int64)
    return lo, hi, probs


def params(ref: Path | None = None) -> Params:
    """The national behavioural parameters (durations, ages) from data/reference/national_shares.csv."""
    codes, probs = calibration.distribution("age_at_referral", ref)
    years = {
        "unborn": (-250, -20),
        "0": (0, 364),
        "1-4": (1, 4),
        "5-9": (5, 9),
        "10-15": (10, 15),
        "16-17": (16, 17),
    }
    lo, hi = [], []
    for code in codes:
        a, b = years[code]
        if code in {"unborn", "0"}:
            lo.append(a)
            hi.append(b)
        else:  # whole years of age -> days
            lo.append(int(a * _DAYS_PER_YEAR))
            hi.append(int((b + 1) * _DAYS_PER_YEAR) - 1)
    return Params(
        cin_duration=_bands("cin_end_duration_days", ref),
        cpp_duration=_bands("cpp_end_duration_days", ref),
        assessment_wd=_bands("assessment_duration_wd", ref),
        age_bands=(np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64), probs),
    )


def la_years(la_code: str, ref: Path | None = None) -> list[int]:
    """The reporting years (2013 to the last supported year) in which ``la_code`` made a return."""
    return [y for y in calendar.REPORTING_YEARS if la_code in calibration.la_codes(y, ref)]


def _known(value: int | None) -> int:
    """A target count, or -1 where DfE published none to impute it from (left to the draws)."""
    return -1 if value is None else int(value)


def _nearest(by_year: Mapping[int, np.ndarray | tuple[float, ...]], year: int) -> tuple[float, ...]:
    """The value of the year nearest ``year`` (an LA created later has none for the warm-up years)."""
    return tuple(float(x) for x in by_year[min(by_year, key=lambda y: (abs(y - year), y))])


def _plan_targets(row: dict) -> dict:
    """The plan figures met exactly in a published year (none in warm-up years: a history that has just
    begun has no plans of 1 or 2 years to keep open)."""
    return {
        "cpp_bands": tuple(int(b) for b in row["cpp_bands"]),
        **{name: int(row[name]) for name in calibration.PLAN_COUNTS},
    }


def _unborn_targets(row: dict) -> dict:
    """The unborn children at 31 March met exactly (every year the LA exists; after the last published
    year, its counts): those on a plan, then the others (see :func:`calibration._with_characteristics`)."""
    planned = sum(row["unborn_categories"])
    return {"unborn_plan": planned, "unborn_other": sum(row["unborn_ethnicity"]) - planned}


def year_plans(la_code: str, targets: pl.DataFrame, ref: Path | None = None) -> list[YearPlan]:
    """Plans for every simulated year of one LA: warm-up years (copies of its first real year) then real ones.

    ``targets`` are :func:`calibration.scaled_targets` rows. An LA created later (838 and 839 in April 2019,
    940 and 941 in April 2021, 942 and 943 in April 2023) is simulated from the same warm-up start with its
    first year's targets, so its first return carries open cases. Years after the last published one (2026)
    follow the LA's last published year. ``ref``: the reference folder the targets came from (a data root's
    own), so that the team's declarations there (its ``la_successors.csv``) shape the census it generates.
    """
    rows = targets.filter(pl.col("la_code") == la_code).sort("year")
    if rows.is_empty():
        raise ValueError(f"no calibration targets for LA {la_code}")
    real = {r["year"]: r for r in rows.iter_rows(named=True)}
    first, published = min(real), max(real)
    # a successor's first year (la_successors.csv): where the look-back reads its predecessors' returns,
    # its re-referrals include their children referred again, so its children referred are left to the
    # draw; where DfE counted them within its own return (its re-referrals are its referrals less its
    # children referred), its children referred are exact and its re-referrals across the split (not
    # counted) and its warm-up years' follow its next year's share, its first with a look-back
    how = (
        reference.successors(first, ref).filter(pl.col("la_code") == la_code)["first_year_lookback"].to_list()
    )
    linked = first if lookback.PREDECESSORS in how else None
    own = first if lookback.OWN_RETURN in how and first + 1 in real else None
    last = max(published, *la_years(la_code, ref))
    start = calendar.FIRST_YEAR - WARMUP_YEARS
    lows = tuple(int(lo) for lo in _bands("cin_end_duration_days", ref)[0])
    durations = calibration.la_cin_durations(la_code, lows, ref)
    open_durations = calibration.la_open_durations(la_code, ref)
    ended_durations = calibration.la_ended_durations(la_code, ref)
    lengths = calibration.plan_length_shares(la_code, ref)
    plans = []
    for i, year in enumerate(range(start, last + 1)):
        r = real.get(year, real[first] if year < first else real[published])
        plans.append(
            YearPlan(
                year=year,
                referrals=int(r["Referrals"]),
                at31=int(r["At31_episodes"]),
                s47=int(r["Section47"]),
                icpc=int(r["ICPC"]),
                cpp_start=int(r["CPP_start"]),
                cpp_at31=int(r["CPP_At31"]),
                nfa=float(r["nfa"]),
                nin=float(r["nin"]),
                rereferral=float(real[first + 1]["rereferral"] if year <= (own or 0) else r["rereferral"]),
                icpc_bands=cast(tuple[float, float, float, float], tuple(float(b) for b in r["icpc_bands"])),
                icpc_band_counts=cast(
                    tuple[int, int, int, int], tuple(int(b) for b in r["icpc_band_counts"])
                ),
                control=i >= FREE_YEARS,
                awaiting=int(r["Awaiting_assessment"]),
                ended=int(r["Ended_episodes"]) if year in real else -1,
                referred_children=int(r["Referrals_child"]) if year in real and year != linked else -1,
                rereferred_children=(
                    _known(r["Re_referrals_child"]) if year in real and year not in (linked, own) else -1
                ),
                s47_children=int(r["Section47_child"]) if year in real else -1,
                # an LA-year whose ICPCs were raised to its plans starting (ICPC_adjusted) would need
                # hundreds of children conferenced twice: its children conferenced are left to the draws
                icpc_children=int(r["ICPC_child"]) if year in real and not r["ICPC_adjusted"] else -1,
                b1_children=(
                    (_known(r["Started_child"]), _known(r["Anypoint_child"]), _known(r["Ended_child"]))
                    if year in real
                    else (-1, -1, -1)
                ),
                late_review=calibration.late_review_share(la_code, min(max(year, 2013), 2020), ref),
                on_time_assessments=calibration.assessment_on_time_share(
                    la_code, min(max(year, 2013), 2020), ref
                ),
                referral_weights=calibration.referral_weights(year, la_code, ref),
                cin_duration=_nearest(durations, year),
                ended_shares=_nearest(ended_durations, year),
                at31_bands=tuple(
                    calibration.largest_remainder(
                        int(r["At31_episodes"]), list(_nearest(open_durations, year))
                    )
                ),
                **(_plan_targets(r) if year in real else {}),
                cpp_lengths=lengths if year in real else (),
                **(_unborn_targets(r) if year >= first else {}),
            )
        )
    return plans
