"""What the synthetic census is calibrated to: per-LA yearly counts and shares, and national category mixes.

The six calibrated counts are the published LA values (``data/reference/published_la_indicators.csv``):

- ``Referrals`` (R), ``At31_episodes`` (A, CIN at 31 March), ``Section47`` (S), ``ICPC`` (I), ``CPP_start``
  (C) and ``CPP_At31`` (P).

Where a value is suppressed (``c``: 1 to 5) or missing (``x``/``u``) it is imputed from the LA's own ratio
to a related measure in its other years (falling back to the national ratio that year); ``c`` cells are kept
in 1..5. A missing value that is the only one of its region is the region's published total less its other
LAs instead (DfE's totals hold those LAs' real figures: Norfolk 2013, Cornwall 2014, South Tyneside 2015,
Herefordshire 2024 referrals), and ``c`` cells are chosen so that the totals round right
(:func:`_fill_from_totals`, :func:`_match_published_totals`); an LA DfE carried forward (Hampshire 2024)
counts in the totals with its earlier figures. One published inconsistency is repaired: an ICPC count below
the CPP starts of the same LA and year (8 LA-years: 7 in 2014-2018, Doncaster 2022) is raised to the CPP
starts, because every CPP starting in the year must start at an ICPC held that year (rules 2883/2885, see
:func:`cin_assets.measures.calibration.inconsistent_icpc`). Those cells carry ``adjusted = True``.
Shares (NFA, not in need, re-referral, second plans, S47-to-ICPC duration bands) fall back from the LA-year
to the LA's median to the national value; the generator meets the NFA, not-in-need and second-plan counts
they imply exactly, the rest approximately.

Further per-LA counts (:data:`EXTRA`): children awaiting assessment at 31 March (met exactly) and episodes
of need ending (met through the assessments carried over 31 March, best effort), and the counts of
children (C1 referred and re-referred, C4 with an enquiry and with a conference, B1 starting, in need at any
point and ending; a suppressed one is its LA's usual ratio to its base). Suppressed (``c``) LA cells of the
first two and of the shares' numerators are allocated so that they add up to the published England
figure minus the published LAs, every year, after a lone missing cell of a region took the region's gap
(:func:`_fill_suppressed`), so England stays right. From LAIT, per LA and
year: referral-source shares (police, schools, health services) and plans reviewed on time; C3 factor
rates per LA and year (2018-2020).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl

from cin_assets import reference
from cin_assets.census import calendar
from cin_assets.census.codes import ETHNIC_GROUPS, FACTOR_FROM, REFERRAL_SOURCE_GROUPS
from cin_assets.census.geography import ENGLAND_CODE, LOCAL, NATIONAL, REGIONAL

COUNTS = ("Referrals", "At31_episodes", "Section47", "ICPC", "CPP_start", "CPP_At31")
# Each count is imputed from its ratio to the measure it most depends on (Referrals from CIN at 31 March).
_RATIO_TO = {
    "Referrals": "At31_episodes",
    "At31_episodes": "Referrals",
    "Section47": "Referrals",
    "ICPC": "Section47",
    "CPP_start": "ICPC",
    "CPP_At31": "CPP_start",
}
_SHARES = {  # share name: (numerator indicator, denominator indicator)
    "nfa": ("No_Further_Action", "Referrals"),
    "nin": ("Not_in_Need", "Referrals"),
    "rereferral": ("Re_referrals", "Referrals"),
    "cpp_subsequent": ("CPP_subsequent", "CPP_start"),
}
ICPC_BANDS = ("Duration_0-10_days", "Duration_11-15_days", "Duration_16-20_days", "Duration_21+_days")
# B1's episodes starting: referrals less those with no further action and those assessed not in need (C1)
_STARTED = "Started_episodes"
# Further per-LA counts the generator meets exactly (scaled like COUNTS): name -> the count it is imputed from.
EXTRA = {
    "Awaiting_assessment": "At31_episodes",
    "Ended_episodes": "At31_episodes",
    "Referrals_child": "Referrals",
    "Section47_child": "Section47",
    "ICPC_child": "ICPC",
    "Re_referrals_child": "Re_referrals",
    "Started_child": _STARTED,
    "Anypoint_child": "Anypoint_episodes",
    "Ended_child": "Ended_episodes",
}
_AUX = tuple(
    sorted(
        {i for pair in _SHARES.values() for i in pair} | set(ICPC_BANDS) | set(EXTRA) | set(EXTRA.values())
    )
)
# A child is counted once in England however many LAs it was in, so England's counts of children need not
# be the sum of the LAs' (children with an enquiry: 117,355 summed against 117,350 in 2013, 194,842 against
# 195,250 in 2025): a suppressed LA count of children is its usual ratio to the base, not a share of England
# less the other LAs.
_CHILD_COUNTS = (
    "Referrals_child",
    "Section47_child",
    "ICPC_child",
    "Re_referrals_child",
    "Started_child",
    "Anypoint_child",
    "Ended_child",
)
# Numerators whose suppressed (c) LA cells are allocated from England minus the published LAs.
_ALLOCATED = {
    **{num: den for num, den in _SHARES.values()},
    **{k: v for k, v in EXTRA.items() if k not in _CHILD_COUNTS},
}


def _wide(ref: Path | None) -> pl.DataFrame:
    """Published LA values, one row per LA and year valid that year, one Int64 column per indicator.

    Also ``<indicator>_c`` flags for counts suppressed as ``c`` (meaning 1 to 5).
    """
    pub = reference.published_indicators(ref).filter(
        (pl.col("geographic_level") == LOCAL) & pl.col("indicator").is_in(COUNTS + _AUX)
    )
    wide = pub.with_columns(v=pl.col("value").cast(pl.Int64, strict=False)).pivot(
        "indicator", index=["time_period", "old_la_code"], values="v"
    )
    supp = (
        pub.filter(pl.col("indicator").is_in(COUNTS + _AUX))
        .with_columns(c=pl.col("value") == "c", indicator=pl.col("indicator") + "_c")
        .pivot("indicator", index=["time_period", "old_la_code"], values="c")
    )
    las = pl.concat(
        [
            pl.DataFrame({"old_la_code": la_codes(y, ref)}).with_columns(time_period=pl.lit(str(y)))
            for y in published_years(ref)
        ]
    )
    out = las.join(wide, on=["time_period", "old_la_code"], how="left").join(
        supp, on=["time_period", "old_la_code"], how="left"
    )
    for name in COUNTS + _AUX:
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Int64).alias(name))
        if f"{name}_c" not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Boolean).alias(f"{name}_c"))
    return out.with_columns(year=pl.col("time_period").cast(pl.Int32)).drop("time_period")


def _impute(wide: pl.DataFrame) -> pl.DataFrame:
    """Fill missing counts from the LA's median ratio to a related measure (else that year's national ratio)."""
    out = wide
    for name in ("Referrals", *COUNTS[1:]):  # Referrals first: the others lean on it
        base = _RATIO_TO[name]
        ratio = pl.col(name).cast(pl.Float64) / pl.col(base).cast(pl.Float64)
        valid = pl.col(name).is_not_null() & pl.col(base).is_not_null() & (pl.col(base) > 0)
        la_ratio = ratio.filter(valid).median().over("old_la_code")
        nat_ratio = pl.col(name).filter(valid).sum().over("year") / pl.col(base).filter(valid).sum().over(
            "year"
        )
        la_median = pl.col(name).cast(pl.Float64).median().over("old_la_code")
        guess = pl.coalesce(pl.coalesce(la_ratio, nat_ratio) * pl.col(base), la_median, pl.lit(1.0))
        suppressed = pl.col(f"{name}_c").fill_null(False)
        guess = pl.when(suppressed).then(guess.round().clip(1, 5)).otherwise(guess.round())
        out = out.with_columns(
            pl.col(name).is_null().alias(f"{name}_imputed"),
            pl.coalesce(pl.col(name), guess.cast(pl.Int64)).alias(name),
        )
    return out


def _published_totals(
    ref: Path | None, indicators: tuple[str, ...] = COUNTS
) -> dict[tuple[str, int, str], int]:
    """{(indicator, year, region code or "E92000001"): published rounded total} (the six counts by default)."""
    pub = reference.published_indicators(ref).filter(
        pl.col("geographic_level").is_in([NATIONAL, REGIONAL]) & pl.col("indicator").is_in(indicators)
    )
    return {
        (ind, int(year), code or ENGLAND_CODE): int(value)
        for ind, year, code, value in pub.select(
            "indicator", "time_period", "region_code", "value"
        ).iter_rows()
        if value.isdigit()
    }


def _regions(ref: Path | None) -> dict[str, str]:
    """{"<LA code>@<year>": region code} for every published year (Inner/Outer London for London LAs)."""
    return dict(
        pl.concat(
            [reference.local_authorities(y, ref).with_columns(year=pl.lit(y)) for y in published_years(ref)]
        )
        .select(pl.concat_str("old_la_code", pl.col("year").cast(pl.String), separator="@"), "region_code")
        .iter_rows()
    )


def _fill_from_totals(wide: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Give a missing (``x``/``u``) count that is the only one of its region the region's published total
    minus its other LAs (the nearest value to that gap, then moved within the region's rounding until England
    rounds to its published total too). DfE's totals hold those LAs' real figures (Norfolk 2013, Cornwall 2014,
    South Tyneside 2015, Herefordshire 2024 referrals: the ratio guess put England 2024 1,130 over), except
    the LAs it carried forward, whose earlier figures are in the totals instead (:func:`cin_assets.reference.carried_values`)."""
    totals = _published_totals(ref)
    regions = _regions(ref)
    out = wide
    for name in COUNTS:
        values = out[name].to_list()
        gaps = (out[f"{name}_imputed"] & ~out[f"{name}_c"].fill_null(False)).to_list()
        las, years = out["old_la_code"].to_list(), out["year"].to_list()
        for year in published_years(ref):
            rows = [i for i, y in enumerate(years) if y == year]
            carried = reference.carried_values(name, year, ref)
            # a carried LA's own row is not in the totals
            counted = [i for i in rows if las[i] not in carried]
            groups: dict[str, list[int]] = {}
            for i in counted:
                groups.setdefault(regions[f"{las[i]}@{year}"], []).append(i)
            carried_in = {
                region: sum(v for la, v in carried.items() if regions.get(f"{la}@{year}") == region)
                for region in groups
            }
            fills: dict[int, tuple[int, int]] = {}
            for region, members in groups.items():
                target = totals.get((name, year, region))
                missing = [i for i in members if gaps[i]]
                if target is None or len(missing) != 1:
                    continue
                (i,) = missing
                known = sum(values[j] for j in members if j != i) + carried_in[region]
                low, high = max(target - 5 - known, 0), target + 4 - known
                if high >= low:
                    values[i] = min(max(target - known, low), high)
                    fills[i] = (low, high)
            target = totals.get((name, year, ENGLAND_CODE))
            if target is None or not fills:
                continue
            total = sum(values[i] for i in counted) + sum(carried.values())
            for i, (low, high) in fills.items():
                if _in_rounding(total, target):
                    break
                step = min(max(target - total, low - values[i]), high - values[i])
                values[i] += step
                total += step
        out = out.with_columns(pl.Series(name, values, dtype=pl.Int64))
    return out


def _in_rounding(total: int, published: int) -> bool:
    """True when ``total`` rounds (nearest 10, halves up) to ``published``."""
    return published - 5 <= total <= published + 4


def _match_published_totals(wide: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Choose suppressed (``c``) LA values within 1..5 so that regional and England sums round to the
    published totals, where some choice does (e.g. City of London's CPP_At31 in 2020 must be 5 for England
    to round to the published 51,510). A small search over a few cells, not per child."""
    totals = _published_totals(ref)
    regions = _regions(ref)
    out = wide
    # keep the orderings the census rules need: ICPCs >= CPP starts (2883), CIN at 31 March >= CPPs open
    floor_of = {"ICPC": "CPP_start"}
    ceiling_of = {"CPP_start": "ICPC", "CPP_At31": "At31_episodes"}
    for name in COUNTS:
        values = out[name].to_list()
        low = out[floor_of[name]].clip(1, 5).to_list() if name in floor_of else [1] * out.height
        high = out[ceiling_of[name]].clip(1, 5).to_list() if name in ceiling_of else [5] * out.height
        flags = out[f"{name}_c"].fill_null(False).to_list()
        keys = [
            f"{la}@{y}" for la, y in zip(out["old_la_code"].to_list(), out["year"].to_list(), strict=True)
        ]
        years = out["year"].to_list()
        for year in published_years(ref):
            # the totals hold a carried-forward LA's earlier figures, not its own row
            carried = reference.carried_values(name, year, ref)
            rows = [i for i, y in enumerate(years) if y == year and keys[i].split("@")[0] not in carried]
            groups: dict[str, list[int]] = {}
            for i in rows:
                groups.setdefault(regions[keys[i]], []).append(i)
            # regions (incl. Inner/Outer London) first, then England keeping each region in its range
            region_ok: dict[str, tuple[int, int]] = {}
            for region, members in groups.items():
                target = totals.get((name, year, region))
                if target is not None:
                    target -= sum(v for la, v in carried.items() if regions.get(f"{la}@{year}") == region)
                    _nudge(values, flags, (low, high), members, target, None)
                    region_ok[region] = (target - 5, target + 4)
            target = totals.get((name, year, ENGLAND_CODE))
            if target is not None:
                bounds = {i: region_ok.get(regions[keys[i]]) for i in rows}
                target -= sum(carried.values())
                _nudge(values, flags, (low, high), rows, target, (groups, regions, keys, bounds))
        out = out.with_columns(pl.Series(name, values, dtype=pl.Int64))
    return out


def _nudge(
    values: list,
    flags: list,
    limits: tuple[list, list],
    members: list[int],
    target: int,
    region_limits: tuple | None,
) -> None:
    """Move suppressed cells of ``members`` one step at a time (within their limits, inside 1..5) until
    their sum rounds to ``target``; with ``region_limits``, never push a cell's region out of its own
    rounding range."""
    low, high = limits
    total = sum(values[i] for i in members)
    while not _in_rounding(total, target):
        step = 1 if total < target - 5 else -1
        moved = False
        for i in members:
            if not flags[i] or not low[i] <= values[i] + step <= high[i]:
                continue
            if region_limits is not None:
                groups, regions, keys, bounds = region_limits
                limit = bounds[i]
                if limit is not None:
                    region_total = sum(values[j] for j in groups[regions[keys[i]]]) + step
                    if not limit[0] <= region_total <= limit[1]:
                        continue
            values[i] += step
            total += step
            moved = True
            break
        if not moved:
            return


def _allocate(total: int, weights: list[float], low: int = 1, high: int = 5) -> list[int]:
    """``total`` split over cells in ``low..high`` in proportion to ``weights`` (each cell starts at
    ``low``; the rest goes one at a time to the cell furthest below its share). Sums to ``total`` unless
    the bounds forbid it (then every cell sits at the nearer bound)."""
    n = len(weights)
    values = [low] * n
    left = min(max(total, low * n), high * n) - low * n
    wsum = sum(weights) or 1.0
    share = [(w or 0.0) / wsum * (left + low * n) for w in weights]
    for _ in range(left):
        i = max((j for j in range(n) if values[j] < high), key=lambda j: (share[j] - values[j], -j))
        values[i] += 1
    return values


def _worked_back(name: str) -> pl.Expr | None:
    """A suppressed (``c``) no-further-action or not-in-need count worked back from the LA's published
    referrals, episodes starting (B1) and the other of the two, where that gives 1 to 5 (else null): DfE's
    episodes starting are its referrals less both (2020 NFA: Rutland 1, Kingston upon Thames 4, Richmond
    upon Thames 5). All but a few LAs a year hold to it, so it is the best guess of the cell."""
    other = {"No_Further_Action": "Not_in_Need", "Not_in_Need": "No_Further_Action"}.get(name)
    if other is None:
        return None
    worked = pl.col("Referrals") - pl.col(other) - pl.col(_STARTED)
    usable = ~pl.col(f"{other}_c").fill_null(False) & ~pl.col("Referrals_imputed") & worked.is_between(1, 5)
    return pl.when(usable).then(worked.cast(pl.Float64))


def _fill_suppressed(wide: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Give the suppressed (``c``, 1 to 5) LA cells of each :data:`_ALLOCATED` numerator values that sum
    to the published England figure minus the published LAs (so England is right), shared in proportion
    to the LA's usual ratio to the denominator. A missing (``x``/``u``) cell that is the only one of its region
    is first the region's total less its other LAs (its ``c`` cells taken as 3, within 1..5), as DfE's totals
    hold its real figure (Herefordshire and Barnet 2024 NFA: about 0); other missing cells keep the ratio
    fallback. The totals hold a carried-forward LA's earlier figures (:func:`cin_assets.reference.carried_values`)."""
    totals = _published_totals(ref, tuple(_ALLOCATED))
    regions = _regions(ref)
    out = wide
    for name, den in _ALLOCATED.items():
        ratio = pl.col(name).cast(pl.Float64) / pl.col(den).cast(pl.Float64)
        valid = pl.col(name).is_not_null() & (pl.col(den) > 0)
        la_ratio = ratio.filter(valid).median().over("old_la_code")
        nat_ratio = pl.col(name).filter(valid).sum().over("year") / pl.col(den).filter(valid).sum().over(
            "year"
        )
        guess_expr = pl.coalesce(la_ratio, nat_ratio) * pl.col(den)
        worked = _worked_back(name)
        guess_expr = guess_expr if worked is None else pl.coalesce(worked, guess_expr)
        guess = out.select(guess_expr.fill_null(1.0).alias("g"))["g"].to_list()
        values = out[name].to_list()
        flags = out[f"{name}_c"].fill_null(False).to_list()
        las, years = out["old_la_code"].to_list(), out["year"].to_list()
        for year in published_years(ref):
            carried = reference.carried_values(name, year, ref)
            rows = [i for i, y in enumerate(years) if y == year and las[i] not in carried]
            groups: dict[str, list[int]] = {}
            for i in rows:
                groups.setdefault(regions[f"{las[i]}@{year}"], []).append(i)
            for region, members in groups.items():
                target = totals.get((name, year, region))
                missing = [i for i in members if values[i] is None and not flags[i]]
                if target is None or len(missing) != 1:
                    continue
                (i,) = missing
                n_c = sum(flags[j] for j in members)
                known = sum(values[j] for j in members if values[j] is not None) + sum(
                    v for la, v in carried.items() if regions.get(f"{la}@{year}") == region
                )
                low, high = max(target - 5 - known - 5 * n_c, 0), target + 4 - known - n_c
                if high >= low:
                    values[i] = min(max(target - known - 3 * n_c, low), high)
            target = totals.get((name, year, ENGLAND_CODE))
            suppressed = [i for i in rows if flags[i]]
            if not suppressed or target is None:
                continue
            published = sum(values[i] for i in rows if values[i] is not None and not flags[i])
            rest = target - published - sum(carried.values())
            # the guesses as they are where England's rounding allows them, else shared out to fit it
            as_guessed = [min(max(round(guess[i]), 1), 5) for i in suppressed]
            fits = _in_rounding(sum(as_guessed), rest)
            shares = as_guessed if fits else _allocate(rest, [guess[i] for i in suppressed])
            for i, v in zip(suppressed, shares, strict=True):
                values[i] = v
        out = out.with_columns(pl.Series(name, values, dtype=pl.Int64))
    return out


def _fill_bands(wide: pl.DataFrame) -> pl.DataFrame:
    """Give an LA's suppressed (``c``) ICPC band cells its published ICPCs less its published bands: DfE's
    bands add up to the LA's ICPCs (all but 21 of 77,470 conferences in 2020), and ``c`` there is often
    secondary suppression of more than 5. Two or more such cells share that rest by England's band shares."""
    england = [float(wide[b].sum()) for b in ICPC_BANDS]
    bands = [wide[b].to_list() for b in ICPC_BANDS]
    flags = [wide[f"{b}_c"].fill_null(False).to_list() for b in ICPC_BANDS]
    icpc, imputed = wide["ICPC"].to_list(), wide["ICPC_imputed"].to_list()
    for i in range(wide.height):
        hidden = [b for b in range(4) if flags[b][i]]
        if not hidden or imputed[i] or any(bands[b][i] is None for b in range(4) if b not in hidden):
            continue
        rest = icpc[i] - sum(bands[b][i] for b in range(4) if b not in hidden)
        if rest < len(hidden):
            continue
        for b, v in zip(hidden, _allocate(rest, [england[b] for b in hidden], 1, rest), strict=True):
            bands[b][i] = v
    return wide.with_columns(pl.Series(b, bands[k], dtype=pl.Int64) for k, b in enumerate(ICPC_BANDS))


@cache
def published_targets(ref: Path | None = None) -> pl.DataFrame:
    """Unscaled calibration targets per LA and reporting year 2013-2020 (LAs valid that year).

    Columns: la_code, year, the six COUNTS (Int64, never null), ``<count>_imputed`` flags, ``ICPC_adjusted``,
    the :data:`EXTRA` counts (Int64: children awaiting assessment at 31 March, at most CIN at 31 March;
    episodes of need ending in the year; children referred in the year, at most the referrals; children
    with an enquiry starting in the year, at most the enquiries; children with a conference in the year,
    at most the conferences; children re-referred in the year, at most the re-referrals, and null where
    DfE published no re-referrals; children starting, in need at any point and ending an episode of need,
    at most the episodes, and null where DfE published neither them nor the episodes),
    shares nfa/nin/rereferral/cpp_subsequent (Float64), icpc_bands (list of 4 probabilities) and
    icpc_band_counts (list of 4 Int64: conferences by working days from the enquiry's start, C4's bands; a
    missing band is the LA's share of its ICPCs). The shares' numerators and the band counts are the
    published LA values, with suppressed cells allocated from England (see :func:`_fill_suppressed`), so the
    shares times the published denominators, and the band counts, add up to England.
    """
    # missing cells from the region totals first (the suppressed cells' search needs them), then again with
    # the suppressed cells chosen, so that England rounds right
    wide = _fill_from_totals(_match_published_totals(_fill_from_totals(_impute(_wide(ref)), ref), ref), ref)
    wide = _fill_bands(_fill_suppressed(wide, ref))
    wide = wide.with_columns(
        (pl.col("ICPC") < pl.col("CPP_start")).alias("ICPC_adjusted"),
        pl.max_horizontal("ICPC", "CPP_start").alias("ICPC"),
        pl.min_horizontal("CPP_At31", "At31_episodes").alias("CPP_At31"),
    )
    share_cols = []
    for share, (num, den) in _SHARES.items():
        raw = (pl.col(num).cast(pl.Float64) / pl.col(den).cast(pl.Float64)).clip(0.0, 0.95)
        raw = pl.when(pl.col(den) > 0).then(raw)
        nat = pl.col(num).sum().over("year") / pl.col(den).filter(pl.col(num).is_not_null()).sum().over(
            "year"
        )
        share_cols.append(pl.coalesce(raw, raw.median().over("old_la_code"), nat).alias(share))
    band_total = pl.sum_horizontal(*ICPC_BANDS)
    bands = [
        pl.when(band_total > 0).then(pl.col(b) / band_total).alias(f"_b{i}") for i, b in enumerate(ICPC_BANDS)
    ]
    extra = []
    for name, base in EXTRA.items():
        ratio = pl.col(name).cast(pl.Float64) / pl.col(base).cast(pl.Float64)
        valid = pl.col(name).is_not_null() & (pl.col(base) > 0)
        la_ratio = ratio.filter(valid).median().over("old_la_code")
        nat = pl.col(name).filter(valid).sum().over("year") / pl.col(base).filter(valid).sum().over("year")
        guess = (pl.coalesce(la_ratio, nat) * pl.col(base)).round().cast(pl.Int64)
        value = pl.coalesce(pl.col(name), guess)
        if name != "Ended_episodes":  # children awaiting assessment, referred, enquired about,
            # conferenced or re-referred: at most base
            value = pl.min_horizontal(value, pl.col(base))
        extra.append(value.alias(name))
    wide = wide.with_columns(*share_cols, *bands, *extra)
    national_bands = [pl.col(f"_b{i}").median() for i in range(4)]
    wide = wide.with_columns(
        pl.concat_list(
            [
                pl.coalesce(
                    pl.col(f"_b{i}"), pl.col(f"_b{i}").median().over("old_la_code"), national_bands[i]
                )
                for i in range(4)
            ]
        ).alias("icpc_bands")
    )
    wide = wide.with_columns(
        pl.concat_list(
            [
                pl.coalesce(pl.col(b), (pl.col("icpc_bands").list.get(i) * pl.col("ICPC")).round()).cast(
                    pl.Int64
                )
                for i, b in enumerate(ICPC_BANDS)
            ]
        ).alias("icpc_band_counts")
    )
    out = wide.select(
        pl.col("old_la_code").alias("la_code"),
        "year",
        *COUNTS,
        *(f"{c}_imputed" for c in COUNTS),
        "ICPC_adjusted",
        *EXTRA,
        *_SHARES,
        "icpc_bands",
        "icpc_band_counts",
    ).sort("la_code", "year")
    return _with_plan_targets(out, ref)


# D5: plans open at 31 March by time on the plan (the bands of cin_assets.measures.units.duration_band).
D5_BANDS = (
    "3_months_or_less",
    "more_than_3_months_6_months",
    "more_than_6_months_less_than_1_year",
    "1_year_less_than_2_years",
    "2_years_or_more",
)
# LAIT counts the generator meets per LA and year where published: plans open at 31 March that started 3
# months or more before, those of them with every review on time, and plans ending after 2 years or more.
PLAN_LAIT = {
    "cpp_lasted": "CPP_31March_3MnthorMore",
    "cpp_on_time": "CPP_Reviewed_InReqTimeScl",
    "cpp_long_end": "CPRDuration",
}
# ... and, with plans ending in the year (derived from LAIT), every per-LA plan count (-1: none)
PLAN_COUNTS = (*PLAN_LAIT, "cpp_end")


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """``total`` (>= 0) split in proportion to ``weights`` (non-negative), rounding by largest remainder
    (ties to the first cell): the parts always sum to ``total``."""
    wsum = sum(weights)
    if total <= 0 or not weights:
        return [0] * len(weights)
    if wsum <= 0:
        weights, wsum = [1.0] * len(weights), float(len(weights))
    exact = [total * w / wsum for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _d5_bands(targets: pl.DataFrame, ref: Path | None) -> list[list[int]]:
    """Per row of ``targets``: the LA's plans open at 31 March in each of :data:`D5_BANDS`, summing to its
    ``CPP_At31`` target. Published cells are kept; the suppressed ones (``c``, and the secondary cells
    beside them, which may exceed 5) share the rest of the LA's plans, fitted (iterative proportional
    fitting) so that each band's suppressed cells add up to England's band less the published LAs."""
    pub = reference.published_indicators(ref).filter(
        pl.col("indicator").is_in(D5_BANDS) & pl.col("time_period").str.contains(r"^\d+$")
    )
    cells = {
        (la, int(y), ind): int(v) if v.isdigit() else None
        for la, y, ind, v in pub.filter(pl.col("geographic_level") == LOCAL)
        .select("old_la_code", "time_period", "indicator", "value")
        .iter_rows()
    }
    england = {
        (int(y), ind): int(v)
        for y, ind, v in pub.filter(pl.col("geographic_level") == NATIONAL)
        .select("time_period", "indicator", "value")
        .iter_rows()
        if v.isdigit()
    }
    las, years, at31 = targets["la_code"].to_list(), targets["year"].to_list(), targets["CPP_At31"].to_list()
    starts = targets["CPP_start"].to_list()
    row_of = {(la, y): i for i, (la, y) in enumerate(zip(las, years, strict=True))}
    out: list[list[int]] = [[0] * len(D5_BANDS) for _ in las]
    by_year: dict[int, list[int]] = {}
    for i, y in enumerate(years):
        by_year.setdefault(y, []).append(i)
    for year, rows in by_year.items():
        shares = [float(england.get((year, b), 1)) for b in D5_BANDS]
        gaps: dict[int, tuple[list[int], int]] = {}  # row -> (suppressed bands, plans left for them)
        for i in rows:
            values = [cells.get((las[i], year, b)) for b in D5_BANDS]
            known = [v for v in values if v is not None]
            missing = [k for k, v in enumerate(values) if v is None]
            left = int(at31[i]) - sum(known)
            if missing and left >= 0:
                out[i] = [v or 0 for v in values]
                gaps[i] = (missing, left)
            else:  # nothing suppressed, or an imputed total below the published cells: keep the shape
                weights = [float(v) if v is not None else shares[k] for k, v in enumerate(values)]
                out[i] = largest_remainder(int(at31[i]), weights)
        if not gaps:
            continue
        col_left = [
            max(
                england.get((year, b), 0)
                - sum(out[i][k] for i in rows if i not in gaps or k not in gaps[i][0]),
                0,
            )
            for k, b in enumerate(D5_BANDS)
        ]
        fit = {i: {k: shares[k] for k in missing} for i, (missing, _) in gaps.items()}
        for _ in range(30):
            for i, (_, left) in gaps.items():
                s = sum(fit[i].values()) or 1.0
                fit[i] = {k: v * left / s for k, v in fit[i].items()}
            for k in range(len(D5_BANDS)):
                s = sum(f[k] for f in fit.values() if k in f)
                if s > 0:
                    for f in fit.values():
                        if k in f:
                            f[k] *= (col_left[k] or 0.01) / s
        for i, (missing, left) in gaps.items():
            caps = _band_caps(out, i, row_of.get((las[i], year - 1)), int(starts[i]))
            parts = _capped(left, [fit[i][k] for k in missing], [caps[k] for k in missing])
            for k, v in zip(missing, parts, strict=True):
                out[i][k] = v
    return out


def _band_caps(bands: list[list[int]], i: int, previous: int | None, starts: int) -> list[int]:
    """Upper bounds of an LA's D5 bands that a history can meet: the plans open 3 months or less, and 3 to
    6 months, at most 2 in 5 of the year's plan starts (at most 3 in 8 in published LAs), those under a
    year at most the starts; 1 to 2 years at most the plans under a year at the previous 31 March, and 2
    years or more at most those over a year then."""
    caps = [-(-2 * starts // 5), -(-2 * starts // 5), starts, 10**9, 10**9]
    if previous is not None:
        before = bands[previous]
        caps[3], caps[4] = sum(before[:3]), sum(before[3:])
    return caps


def _capped(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """:func:`largest_remainder` with each part at most its cap where the caps allow (what no cap can take
    goes to the largest weight)."""
    parts = [0] * len(weights)
    free = list(range(len(weights)))
    left = total
    while left > 0 and free:
        share = largest_remainder(left, [weights[k] if weights[k] > 0 else 1e-9 for k in free])
        over = [k for k, v in zip(free, share, strict=True) if parts[k] + v > caps[k]]
        if not over:
            for k, v in zip(free, share, strict=True):
                parts[k] += v
            return parts
        for k in over:
            left -= max(caps[k] - parts[k], 0)
            parts[k] = max(caps[k], parts[k])
        free = [k for k in free if k not in over]
    if left > 0:
        parts[max(range(len(weights)), key=lambda k: (weights[k], -k))] += left
    return parts


@cache
def _lait_counts(ref: Path | None) -> dict[tuple[str, int, str], int]:
    """{(LA code, year, LAIT indicator): value} for the published (numeric) :data:`PLAN_LAIT` counts
    (LA code ``*``: England)."""
    path = (ref or reference.reference_dir()) / "lait_indicators.csv"
    lait = pl.read_csv(path, infer_schema=False).filter(
        pl.col("geographic_level").is_in([LOCAL, NATIONAL])
        & pl.col("indicator").is_in(list(PLAN_LAIT.values()))
        & pl.col("value").str.contains(r"^\d+$")
    )
    return {
        (la or "*", int(y), ind): int(v)
        for la, y, ind, v in lait.select("old_la_code", "time_period", "indicator", "value").iter_rows()
    }


@cache
def _plan_endings(ref: Path | None) -> dict[tuple[str, int], int]:
    """{(LA code, year): plans ending in the year}, derived from LAIT (2015-2020; the fidelity report's
    D1 figure, rounded the same way)."""
    path = (ref or reference.reference_dir()) / "cpp_ending_derived.csv"
    ending = pl.read_csv(path, infer_schema=False).filter(pl.col("geographic_level") == LOCAL)
    value = pl.col("cpp_end_derived").cast(pl.Float64).round(0).cast(pl.Int64)
    return {
        (la, int(y)): int(v)
        for la, y, v in ending.select("old_la_code", "time_period", value).drop_nulls().iter_rows()
    }


def _with_plan_targets(targets: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Add the plan targets met per LA: ``cpp_bands`` (:func:`_d5_bands`), the :data:`PLAN_LAIT` counts and
    ``cpp_end`` (:func:`_plan_endings`; -1 where there is none).
    LAIT's suppressed LA cells (``-``) share England less the published LAs (0 to 5 each, in proportion to
    the LAs' plans at 31 March); -1 where LAIT has no England figure that year: the generator then leaves
    that figure to chance. ``cpp_lasted`` is kept
    between the plans open 3 months or more by D5 and those plus the 3-month band (a plan started on 31
    December is in both: LAIT's count exceeds D5's by up to 5 plans in 17 LA-years of 2019-2020)."""
    bands = _d5_bands(targets, ref)
    lait = _lait_counts(ref)
    keys = list(zip(targets["la_code"].to_list(), targets["year"].to_list(), strict=True))
    cols: dict[str, list[int]] = {}
    weights = targets["CPP_At31"].to_list()
    for name, indicator in PLAN_LAIT.items():
        values = [lait.get((la, y, indicator), -1) for la, y in keys]
        for year in sorted(set(targets["year"].to_list())):
            england = lait.get(("*", year, indicator))
            rows = [i for i, (_, y) in enumerate(keys) if y == year]
            hidden = [i for i in rows if values[i] < 0]
            if england is None or not hidden or len(hidden) == len(rows):
                continue
            left = england - sum(values[i] for i in rows if values[i] >= 0)
            for i, v in zip(hidden, _allocate(left, [float(weights[i]) for i in hidden], 0, 5), strict=True):
                values[i] = v
        cols[name] = values
    ending = _plan_endings(ref)
    cols["cpp_end"] = [ending.get(key, -1) for key in keys]
    cols["cpp_lasted"] = [
        -1 if v < 0 else min(max(v, sum(b[1:])), sum(b))
        for v, b in zip(cols["cpp_lasted"], bands, strict=True)
    ]
    cols["cpp_on_time"] = [
        -1 if v < 0 else min(v, lasted if lasted >= 0 else sum(b[1:]))
        for v, lasted, b in zip(cols["cpp_on_time"], cols["cpp_lasted"], bands, strict=True)
    ]
    return targets.with_columns(
        pl.Series("cpp_bands", bands, dtype=pl.List(pl.Int64)),
        *(pl.Series(name, values, dtype=pl.Int64) for name, values in cols.items()),
    )


def scale_count(value: int, scale: float) -> int:
    """``value * scale`` rounded half up, computed in decimal so 2.5 always becomes 3."""
    exact = Decimal(int(value)) * Decimal(str(scale))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@cache
def scaled_targets(scale: float, ref: Path | None = None) -> pl.DataFrame:
    """The targets at ``scale``: every count rounded half up; an LA-year left with no referral gets one, so
    that every LA still makes a non-empty return (an open case alone cannot be simulated without the
    referral that opened it: the Isles of Scilly at small scale). With the unborn and unknown-gender
    children's counts per LA (:func:`_with_characteristics`). Cached: every LA's job reads it."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    base = published_targets(ref)
    scaled = {c: [scale_count(v, scale) for v in base[c].to_list()] for c in COUNTS}
    # children re-referred stay null where DfE published no re-referrals (x: Dorset and BCP 2020)
    extra = {c: [None if v is None else scale_count(v, scale) for v in base[c].to_list()] for c in EXTRA}
    for c in PLAN_COUNTS:
        scaled[c] = [v if v < 0 else scale_count(v, scale) for v in base[c].to_list()]
    icpc_bands = [[scale_count(v, scale) for v in row] for row in base["icpc_band_counts"].to_list()]
    bands = [
        largest_remainder(total, [float(b) for b in row])
        for total, row in zip(scaled["CPP_At31"], base["cpp_bands"].to_list(), strict=True)
    ]
    out = base.with_columns(
        *(pl.Series(c, v, dtype=pl.Int64) for c, v in scaled.items()),
        *(pl.Series(c, v, dtype=pl.Int64) for c, v in extra.items()),
        pl.Series("icpc_band_counts", icpc_bands, dtype=pl.List(pl.Int64)),
        pl.Series("cpp_bands", bands, dtype=pl.List(pl.Int64)),
    )
    out = out.with_columns(pl.max_horizontal("Referrals", pl.lit(1, dtype=pl.Int64)).alias("Referrals"))
    return _with_characteristics(out, ref)


@cache
def national_shares(ref: Path | None = None) -> dict[str, dict[str, float]]:
    """``data/reference/national_shares.csv`` as {category (with ``@year`` when year-specific): {code: share}}."""
    path = (ref or reference.reference_dir()) / "national_shares.csv"
    table = pl.read_csv(path, schema_overrides={"code": pl.String, "year": pl.String, "share": pl.Float64})
    out: dict[str, dict[str, float]] = {}
    for cat, code, year, share in table.select("category", "code", "year", "share").iter_rows():
        out.setdefault(cat if year is None else f"{cat}@{year}", {})[code] = share
    return out


def distribution(category: str, ref: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(codes, probabilities summing to 1) of one national_shares category."""
    shares = national_shares(ref)[category]
    codes = np.array(list(shares), dtype=object)
    probs = np.array(list(shares.values()), dtype=np.float64)
    return codes, probs / probs.sum()


# C3 indicator -> 2019-20 assessment factor code (Privately_fostered is spread over 8B-8F separately).
FACTOR_COLUMNS = {
    "Alcohol_Misuse_child": "1A", "Alcohol_Misuse_parent": "1B", "Alcohol_Misuse_person": "1C",
    "Drug_Misuse_child": "2A", "Drug_Misuse_parent": "2B", "Drug_Misuse_person": "2C",
    "Domestic_Abuse_child": "3A", "Domestic_Abuse_parent": "3B", "Domestic_Abuse_person": "3C",
    "Mental_Health_child": "4A", "Mental_Health_parent": "4B", "Mental_Health_person": "4C",
    "Learning_Disability_child": "5A", "Learning_Disability_parent": "5B", "Learning_Disability_person": "5C",
    "Physical_Disability_child": "6A", "Physical_Disability_parent": "6B", "Physical_Disability_person": "6C",
    "Young_Carer": "7A", "Unaccompanied_asylum_seeker": "9A", "Going_missing": "10A",
    "Child_sexual_exploitation": "11A", "Trafficking": "12A", "Gangs": "13A",
    "Socially_unacceptable_behaviour": "14A", "Self_harm": "15A", "Neglect": "16A", "Emotional_Abuse": "17A",
    "Physical_Abuse_unknown": "18A", "Sexual_Abuse_unknown": "19A", "Other": "20",
    "Female_Genital_Mutilation": "22A", "Faith_linked_abuse": "23A", "Privately_fostered": "8",
    # published from 2021 (x before, so never drawn before their year)
    "Physical_Abuse_child_on_child": "18B", "Physical_Abuse_adult_on_child": "18C",
    "Sexual_Abuse_child_on_child": "19B", "Sexual_Abuse_adult_on_child": "19C",
    "Child_criminal_exploitation": "24A",
}  # fmt: skip


FACTOR_YEARS = tuple(range(2018, 2026))  # years with published C3 factors; earlier use 2018's, later 2025's
# Factors first collected in 2020-21 (abuse split by who the abuser was) and 2021-22 (24A): never drawn before.
_FACTOR_FROM = {name: FACTOR_FROM[code] for name, code in FACTOR_COLUMNS.items() if code in FACTOR_FROM}


@cache
def factor_rates(ref: Path | None = None) -> pl.DataFrame:
    """Per LA and year: probability that an assessed episode has each factor (C3 count / episodes with
    factors), from the LA's own published value that year (not pooled over years).

    A suppressed value (c) gets the LA's share of England minus the published LAs that year (by its
    episodes with a factor, within 1 to 5). Where the LA's value is missing, its pooled rate within the era
    (over its years with a base of 50 episodes or more) is used, else the national rate that year. Columns: la_code ("*" = national), year,
    factor (C3 indicator name), rate.
    """
    path = (ref or reference.reference_dir()) / "published_assessment_factors.csv"
    c3 = pl.read_csv(path, infer_schema=False).with_columns(
        pl.col("value").cast(pl.Float64, strict=False), pl.col("time_period").cast(pl.Int32).alias("year")
    )
    base = "Episodes_with_assessment_factor"
    c3 = c3.filter(pl.col("indicator").is_in([*FACTOR_COLUMNS, base]) & pl.col("year").is_in(FACTOR_YEARS))
    la = c3.filter(pl.col("geographic_level") == LOCAL).select(
        pl.col("old_la_code").alias("la_code"), "year", "indicator", "value"
    )
    nat = c3.filter(pl.col("geographic_level") == NATIONAL).select(
        pl.lit("*").alias("la_code"), "year", "indicator", "value"
    )
    long = pl.concat([la, nat])
    den = long.filter(pl.col("indicator") == base).select("la_code", "year", pl.col("value").alias("den"))
    num = long.filter(pl.col("indicator") != base).rename({"indicator": "factor"})
    rated = num.join(den, on=["la_code", "year"], how="left")
    usable = pl.col("value").is_not_null() & (pl.col("den") >= 50)
    # pooled within an era: 2018-2020, and 2021 on (after the abuse factors were split)
    era = (pl.col("year") >= 2021).alias("era")
    pooled = (
        rated.filter(usable)
        .group_by("la_code", "factor", era)
        .agg((pl.col("value").sum() / pl.col("den").sum()).alias("pooled"))
    )
    national = rated.filter(pl.col("la_code") == "*").select(
        "year", "factor", (pl.col("value") / pl.col("den")).alias("national"), pl.col("value").alias("_nat")
    )
    # a suppressed LA count (c: 1 to 5) gets its share, by the LA's episodes with a factor, of England
    # minus the published LAs, kept within 1 to 5, so the LAs add up to England's figure
    local = rated.filter(pl.col("la_code") != "*")
    hidden = pl.col("value").is_null() & (pl.col("den") > 0)
    residual = (
        local.group_by("year", "factor")
        .agg(
            pl.col("value").sum().alias("_published"), pl.col("den").filter(hidden).sum().alias("_hidden_den")
        )
        .join(national.select("year", "factor", "_nat"), on=["year", "factor"], how="left")
        .select(
            "year", "factor", ((pl.col("_nat") - pl.col("_published")) / pl.col("_hidden_den")).alias("_per")
        )
    )
    imputed = (pl.col("_per") * pl.col("den")).clip(1.0, 5.0) / pl.col("den")
    grid = (
        rated.select("la_code").unique()
        .join(pl.DataFrame({"year": FACTOR_YEARS}, schema={"year": pl.Int32}), how="cross")
        .join(pl.DataFrame({"factor": list(FACTOR_COLUMNS)}), how="cross")
    )  # fmt: skip
    return (
        grid.join(rated, on=["la_code", "year", "factor"], how="left")
        .with_columns(era)
        .join(pooled, on=["la_code", "factor", "era"], how="left")
        .join(national.drop("_nat"), on=["year", "factor"], how="left")
        .join(residual, on=["year", "factor"], how="left")
        .select(
            "la_code",
            "year",
            "factor",
            pl.when(pl.col("year") < pl.col("factor").replace_strict(_FACTOR_FROM, default=0))
            .then(0.0)
            .otherwise(
                pl.coalesce(
                    pl.when(pl.col("value").is_not_null() & (pl.col("den") > 0)).then(
                        pl.col("value") / pl.col("den")
                    ),
                    pl.when(hidden & (pl.col("la_code") != "*")).then(imputed),
                    "pooled",
                    "national",
                )
            )
            .fill_null(0.0)
            .clip(0.0, 0.9)
            .alias("rate"),
        )
        .sort("la_code", "year", "factor")
    )


def la_factor_rates(la_code: str, year: int, ref: Path | None = None) -> dict[str, float]:
    """{C3 indicator: rate} for one LA and reporting year (years before 2018 use 2018's; national rates
    for LAs without published factors, e.g. new LAs)."""
    rates = factor_rates(ref)
    year = min(max(year, FACTOR_YEARS[0]), FACTOR_YEARS[-1])
    own = rates.filter((pl.col("la_code") == la_code) & (pl.col("year") == year))
    if own.is_empty():
        own = rates.filter((pl.col("la_code") == "*") & (pl.col("year") == year))
    return dict(own.select("factor", "rate").iter_rows())


@cache
def _la_codes(ref: Path | None) -> dict[int, tuple[str, ...]]:
    return {
        y: tuple(reference.local_authorities(y, ref)["old_la_code"].to_list())
        for y in calendar.REPORTING_YEARS
    }


@cache
def published_years(ref: Path | None = None) -> tuple[int, ...]:
    """Reporting years with published LA figures to calibrate to (2013-2025); later supported years (2026)
    follow the last of them (see :func:`cin_assets.synth.plans.year_plans`)."""
    years = reference.published_indicators(ref).filter(pl.col("indicator") == "Referrals")["time_period"]
    return tuple(y for y in calendar.REPORTING_YEARS if str(y) in set(years.to_list()))


def la_codes(year: int, ref: Path | None = None) -> tuple[str, ...]:
    """Old 3-digit codes of the LAs that made a return in reporting ``year``."""
    return _la_codes(ref)[year]


def _lait(indicators: tuple[str, ...], ref: Path | None) -> pl.DataFrame:
    """LAIT values (Float64, null when suppressed) per LA and year 2013-2020 for ``indicators``: the LA's
    own value that year, else its median over the LAIT years (2015-2020), else England's that year (or
    England's median). Columns: la_code, year, one column per indicator."""
    path = (ref or reference.reference_dir()) / "lait_indicators.csv"
    lait = (
        pl.read_csv(path, infer_schema=False)
        .filter(pl.col("indicator").is_in(list(indicators)))
        .with_columns(pl.col("value").cast(pl.Float64, strict=False), pl.col("time_period").cast(pl.Int32))
    )
    wide = (
        lait.with_columns(
            pl.when(pl.col("geographic_level") == NATIONAL)
            .then(pl.lit("*"))
            .otherwise(pl.col("old_la_code"))
            .alias("la_code")
        )
        .filter(pl.col("la_code").is_not_null())
        .pivot("indicator", index=["la_code", "time_period"], values="value", aggregate_function="first")
        .rename({"time_period": "year"})
    )
    for name in indicators:
        if name not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(name))
    grid = pl.concat(
        [
            pl.DataFrame({"la_code": [*la_codes(y, ref), "*"]}).with_columns(year=pl.lit(y, pl.Int32))
            for y in range(2013, 2021)
        ]
    )
    out = grid.join(wide, on=["la_code", "year"], how="left")
    england = out.filter(pl.col("la_code") == "*").select(
        "year", *(pl.coalesce(pl.col(n), pl.col(n).median()).alias(f"_{n}") for n in indicators)
    )
    return out.join(england, on="year", how="left").select(
        "la_code",
        "year",
        *(
            pl.coalesce(pl.col(n), pl.col(n).median().over("la_code"), pl.col(f"_{n}")).alias(n)
            for n in indicators
        ),
    )


def _own_rows(table: pl.DataFrame, la_code: str) -> pl.DataFrame:
    """A :func:`_lait` table's rows of one LA, or England's where LAIT has no row of it (a new LA)."""
    own = table.filter(pl.col("la_code") == la_code)
    return own if not own.is_empty() else table.filter(pl.col("la_code") == "*")


SOURCE_GROUPS = {  # LAIT referral-source percentage -> the ReferralSource codes it covers
    "RefBySource_Police_%": REFERRAL_SOURCE_GROUPS["Police"],
    "RefBySource_Schl_%": REFERRAL_SOURCE_GROUPS["Schools"],
    "RefBySource_HealthServ_%": REFERRAL_SOURCE_GROUPS["Health_Services"],
}


@cache
def _source_table(ref: Path | None) -> pl.DataFrame:
    return _lait(tuple(SOURCE_GROUPS), ref)


def source_ratio(ref: Path | None = None) -> dict[str, dict[str, float]]:
    """{E12 region code: {C5 source group: its share of the region's referrals over England's}} (C5 2020:
    the four regions it publishes have their own, the others share what England's counts leave; Yorkshire
    and the Humber records 0.6% of referrals with no known source, the North West 3.5%)."""
    groups = [*REFERRAL_SOURCE_GROUPS, "Unknown"]
    by_group = {g: regional_ratio("C5", g, "Referrals", ref) for g in groups}
    return {region: {g: by_group[g][region] for g in groups} for region in by_group["Unknown"]}


def _source_group(code: str) -> str:
    return next((name for name, codes in REFERRAL_SOURCE_GROUPS.items() if code in codes), "Unknown")


def la_referral_sources(la_code: str, ref: Path | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per reporting year 2013-2020: (ReferralSource codes, probabilities) for one LA. The police, schools
    and health-services shares are the LA's LAIT percentages (its median in years LAIT lacks, England's
    where it has none); the other codes share the rest in their national proportions, each group weighted
    by how much more (or less) of its region's referrals it makes than of England's (C5 2020)."""
    codes, national = distribution("referral_source", ref)
    ratio = source_ratio(ref)[la_region(la_code, ref)]
    national = national * np.array([ratio[_source_group(str(c))] for c in codes])
    table = _source_table(ref)
    own = _own_rows(table, la_code)
    out = {}
    for row in own.iter_rows(named=True):
        probs = national.copy()
        fixed = np.zeros(len(codes), dtype=bool)
        for name, group in SOURCE_GROUPS.items():
            if row[name] is None:
                continue
            idx = np.isin(codes, group)
            probs[idx] = national[idx] / national[idx].sum() * row[name] / 100
            fixed |= idx
        rest = max(1.0 - probs[fixed].sum(), 0.0)
        probs[~fixed] = national[~fixed] / national[~fixed].sum() * rest
        out[int(row["year"])] = (codes, probs / probs.sum())
    return out


@cache
def _lait_table(indicator: str, ref: Path | None) -> pl.DataFrame:
    return _lait((indicator,), ref)


def _lait_share(indicator: str, la_code: str, year: int, default: float, ref: Path | None) -> float:
    """A LAIT percentage as a share in 0..1: the LA's that year (its median over LAIT's years where it has
    none), else England's that year, else ``default`` (a percentage)."""
    table = _lait_table(indicator, ref)
    row = table.filter((pl.col("la_code") == la_code) & (pl.col("year") == year))
    if row.is_empty():
        row = table.filter((pl.col("la_code") == "*") & (pl.col("year") == year))
    return min(max((row[indicator].item() or default) / 100.0, 0.0), 1.0)


def late_review_share(la_code: str, year: int, ref: Path | None = None) -> float:
    """The probability that one review of a plan is held late, so that the LA's share of plans open 3
    months or more with every review on time is its LAIT RevCP that year (a plan is judged on about 1.4
    review intervals in a year: 2 gave England 94.6% and 93.7% for a real 91.5% and 91.8% in 2020 and 2019;
    1/0.72 gave 92.3% and 91.9% once plan lengths followed D5 and D7)."""
    return 1.0 - _lait_share("RevCP", la_code, year, 100.0, ref) ** 0.79


def assessment_on_time_share(la_code: str, year: int, ref: Path | None = None) -> float:
    """The share of the LA's assessments completed within 45 working days: its LAIT Continue_Assess_Comp
    that year (its median over LAIT's years, else England's, where LAIT has none)."""
    return _lait_share("Continue_Assess_Comp", la_code, year, 83.8, ref)


@cache
def national_figures(ref: Path | None = None) -> pl.DataFrame:
    """``data/reference/national_figures.csv``: England figures of the files not shipped per LA (strings)."""
    return pl.read_csv((ref or reference.reference_dir()) / "national_figures.csv", infer_schema=False)


@cache
def _regional_2020(dataset: str, indicators: tuple[str, ...], ref: Path | None) -> dict[str, list[float]]:
    """EES 2020's ``indicators`` of ``dataset`` by E12 region code, for the regions it publishes them all for
    (four, in B2, B6 and D7), with England's under its code and what England's leave after those regions
    under "" (the regions not published share it, so England keeps its figures)."""
    rows = national_figures(ref).filter((pl.col("dataset") == dataset) & (pl.col("time_period") == "2020"))
    values = {
        (code or ENGLAND_CODE, ind): float(v)
        for code, ind, v in rows.select("region_code", "indicator", "value").iter_rows()
        if ind in indicators and v.replace(".", "").isdigit()
    }
    regions = reference.regions_table(ref)["region_code"].to_list()
    known = [r for r in regions if all((r, ind) in values for ind in indicators)]
    out = {code: [values[(code, ind)] for ind in indicators] for code in (ENGLAND_CODE, *known)}
    out[""] = [england - sum(out[r][i] for r in known) for i, england in enumerate(out[ENGLAND_CODE])]
    return out


@cache
def regional_ratio(
    dataset: str, numerator: str, denominator: str, ref: Path | None = None
) -> dict[str, float]:
    """{E12 region code: its 2020 share ``numerator`` / ``denominator`` in ``dataset`` over England's}: the
    regions the EES 2020 preview publishes have their own, the others what England's count leaves."""
    figures = _regional_2020(dataset, (numerator, denominator), ref)
    (england_n, england_d), (rest_n, rest_d) = figures[ENGLAND_CODE], figures[""]
    left = max(rest_n, 0.0) / rest_d
    return {
        r: (figures[r][0] / figures[r][1] if r in figures else left) / (england_n / england_d)
        for r in reference.regions_table(ref)["region_code"].to_list()
    }


PLAN_LENGTHS = ("3_months_or_less", "3_6_months", "6_months_1_year", "1_2_years")  # D7 bands under 2 years


def plan_length_shares(la_code: str, ref: Path | None = None) -> tuple[float, ...]:
    """The shares of an LA's plans ending after less than 2 years per D7 band: its region's in EES 2020
    where published (four regions), else what England's leave (D7 has no LA rows; the draw of plan lengths
    is shaped on the same figures, and no earlier year is shipped)."""
    counts = _regional_2020("D7", PLAN_LENGTHS, ref)
    row = counts.get(la_region(la_code, ref), counts[""])
    return tuple(c / sum(row) for c in row)


def disability_ratio(ref: Path | None = None) -> dict[str, float]:
    """{E12 region code: its share of children in need at 31 March with a disability recorded, over
    England's} (B2 2020: North East 13.1% to East Midlands 9.9%, England 12.6%)."""
    return regional_ratio("B2", "At31_episodes_disability_recorded", "At31_episodes", ref)


# B6's reason pairs in file order (RC1..RC6, RC8, RC7; see national_shares.csv closure_reason_cin)
B6_PAIRS = {"RC1": "pair1", "RC2": "pair2", "RC3": "pair3", "RC4": "pair4", "RC5": "pair5", "RC6": "pair6",
            "RC8": "pair7", "RC7": "pair8"}  # fmt: skip


def closure_ratio(code: str, ref: Path | None = None) -> dict[str, float]:
    """{E12 region code: its share of episodes of need ending with closure reason ``code``, over England's}
    (B6 2020: the North East closes 0.1% as adopted, the East Midlands 2.9%, England 0.7%)."""
    return regional_ratio("B6", B6_PAIRS[code], "Ended_episodes", ref)


def la_region(la_code: str, ref: Path | None = None) -> str:
    """The E12 region of an LA, from the latest year it made a return."""
    year = max(y for y in calendar.REPORTING_YEARS if la_code in la_codes(y, ref))
    las = reference.local_authorities(year, ref)
    return las.filter(pl.col("old_la_code") == la_code)["ons_region_code"].item()


# A4's ethnic group columns -> the group's Ethnicity codes (the vocabulary's DfE major groups).
_ETHNIC_COLUMNS = {
    "Ethnicity_White": ETHNIC_GROUPS["White"],
    "Ethnicity_Mixed": ETHNIC_GROUPS["Mixed"],
    "Ethnicity_Asian_or_Asian_British": ETHNIC_GROUPS["Asian or Asian British"],
    "Ethnicity_Black_or_Black_British": ETHNIC_GROUPS["Black or Black British"],
    "Ethnicity_Other": ETHNIC_GROUPS["Other ethnic group"],
}
# A4's characteristic -> the gender codes it covers ("unborn" for children not yet born at 31 March).
ETHNICITY_BY = {"Male": ("1",), "Female": ("2",), "Unknown or Indeterminate gender": ("0", "9"), "Unborn": ()}


@cache
def ethnicity_by_gender(ref: Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{A4 characteristic (see :data:`ETHNICITY_BY`): (Ethnicity codes, probabilities)}: the England 2020
    A4 mix of ethnic groups (and ethnicity not known) among children in need at 31 March of that gender,
    or unborn; within a group the codes keep their national proportions (``ethnicity`` shares)."""
    codes, national = distribution("ethnicity", ref)
    a4 = national_figures(ref).filter(
        (pl.col("dataset") == "A4")
        & (pl.col("time_period") == "2020")
        & pl.col("value").str.contains(r"^\d+$")
    )
    out = {}
    for who in ETHNICITY_BY:
        rows = dict(
            a4.filter(pl.col("filters").str.ends_with(f"characteristic={who}"))
            .select("indicator", pl.col("value").cast(pl.Float64))
            .iter_rows()
        )
        total = rows["CIN_At31"]
        probs = np.zeros(len(codes))
        known = np.zeros(len(codes), dtype=bool)
        for column, members in _ETHNIC_COLUMNS.items():
            group = np.isin(codes, members)
            probs[group] = national[group] / national[group].sum() * rows[column] / total
            known |= group
        probs[~known] = national[~known] / national[~known].sum() * (total - rows["Ethnicity_Known"]) / total
        out[who] = (codes, probs / probs.sum())
    return out


_A5_CATEGORIES = {
    "NEG": "Neglect_Initial",
    "PHY": "Physical_Abuse_Initial",
    "SAB": "Sexual_Abuse_Initial",
    "EMO": "Emotional_Abuse_Initial",
    "MUL": "Multiple_Initial",
}
# A5's characteristic -> the gender codes it covers ("Unborn": plans starting before the birth).
CATEGORY_BY = {"Male": ("1",), "Female": ("2",), "Unknown/Indeterminate gender": ("0", "9"), "Unborn": ()}


@cache
def category_weights(ref: Path | None = None) -> dict[str, dict[str, float]]:
    """{A5 characteristic: {initial category code: weight}}: how much more (or less) common each initial
    category of abuse is among the plans of children of that gender, or unborn, than among all plans
    (England 2020 A5, plans at 31 March); 1.0 where DfE suppressed the cell."""
    a5 = national_figures(ref).filter((pl.col("dataset") == "A5") & (pl.col("time_period") == "2020"))

    def shares(who: str) -> dict[str, float]:
        rows = dict(
            a5.filter(pl.col("filters").str.ends_with(f"characteristic={who}"))
            .select("indicator", pl.col("value").cast(pl.Float64, strict=False))
            .iter_rows()
        )
        return {code: (rows.get(col) or np.nan) / rows["CPP_At31"] for code, col in _A5_CATEGORIES.items()}

    total = shares("Total")
    return {
        who: {code: 1.0 if np.isnan(share) else share / total[code] for code, share in shares(who).items()}
        for who in CATEGORY_BY
    }


@cache
def plan_gender(ref: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(GenderCurrent codes, probabilities) of born children on a plan: England 2020 A5's children on a plan
    at 31 March by gender (51% boys, against 55% of all children in need in A4), the unknown or
    indeterminate share split evenly between codes 0 and 9 as in ``gender_born``."""
    a5 = national_figures(ref).filter(
        (pl.col("dataset") == "A5") & (pl.col("time_period") == "2020") & (pl.col("indicator") == "CPP_At31")
    )
    count = {
        who: float(a5.filter(pl.col("filters").str.ends_with(f"characteristic={who}"))["value"].item())
        for who in ("Male", "Female", "Unknown/Indeterminate gender")
    }
    codes, _ = distribution("gender_born", ref)
    split = {"1": count["Male"], "2": count["Female"]}
    probs = np.array([split.get(c, count["Unknown/Indeterminate gender"] / 2) for c in codes])
    return codes, probs / probs.sum()


# The A4/A5 rows of children the generator counts per LA only through England's figures: unborn children
# and children of unknown or indeterminate gender, by ethnic group (A4's columns, then not known) among the
# children in need at 31 March and by initial category of abuse among those on a plan then.
CHARACTERISTICS = {  # who: (A4's characteristic, A5's)
    "unborn": ("Unborn", "Unborn"),
    "unknown": ("Unknown or Indeterminate gender", "Unknown/Indeterminate gender"),
}
ETHNIC_COLUMNS = (*_ETHNIC_COLUMNS, "Ethnicity_Not_known")
CATEGORY_CODES = tuple(_A5_CATEGORIES)
CATEGORY_COLUMNS = tuple(_A5_CATEGORIES.values())  # A5's columns of CATEGORY_CODES


@dataclass(frozen=True)
class _Figures:
    """England's A4/A5 figures of one published year that the characteristic counts follow."""

    cin: float  # children in need at 31 March
    cpp: float  # children on a plan at 31 March
    counts: dict[str, tuple[float, float]]  # who (see CHARACTERISTICS) -> in need, on a plan at 31 March
    ethnicity: dict[str, np.ndarray]  # who -> counts per ETHNIC_COLUMNS
    categories: dict[str, np.ndarray]  # who -> counts per CATEGORY_CODES (their shares)
    genders: np.ndarray  # boys' and girls' (rows) plans at 31 March per CATEGORY_CODES


def _figure_row(table: pl.DataFrame, dataset: str, who: str) -> dict[str, float]:
    """{indicator: value} of one characteristic's row; a suppressed cell (``c``, 1 to 5) counts 1: the
    unknown-gender row of A5 2020 already sums to its total with its published cells (40 + 10 + 20 = 70)."""
    cells = table.filter(
        (pl.col("dataset") == dataset) & pl.col("filters").str.ends_with(f"characteristic={who}")
    )
    return {i: float(v) if v.isdigit() else 1.0 for i, v in cells.select("indicator", "value").iter_rows()}


@cache
def _characteristic_figures(ref: Path | None) -> dict[int, _Figures]:
    """{year DfE published A4 and A5 (2020): its figures}; an ethnic group's "not known" count is the rest
    of the characteristic's children in need."""
    table = national_figures(ref).filter(pl.col("dataset").is_in(["A4", "A5"]))
    out: dict[int, _Figures] = {}
    for year in sorted({int(y) for y in table["time_period"].to_list()}):
        rows = table.filter(pl.col("time_period") == str(year))
        counts, ethnicity, categories = {}, {}, {}
        for who, (a4_name, a5_name) in CHARACTERISTICS.items():
            a4, a5 = _figure_row(rows, "A4", a4_name), _figure_row(rows, "A5", a5_name)
            counts[who] = (a4["CIN_At31"], a5["CPP_At31"])
            groups = [a4[c] for c in _ETHNIC_COLUMNS]
            ethnicity[who] = np.array([*groups, max(a4["CIN_At31"] - sum(groups), 0.0)])
            categories[who] = np.array([a5[_A5_CATEGORIES[c]] for c in CATEGORY_CODES])
        cin = _figure_row(rows, "A4", "Total")["CIN_At31"]
        cpp = _figure_row(rows, "A5", "Total")["CPP_At31"]
        genders = np.array([
            [_figure_row(rows, "A5", who)[_A5_CATEGORIES[c]] for c in CATEGORY_CODES] for who in ("Male", "Female")
        ])  # fmt: skip
        out[year] = _Figures(cin, cpp, counts, ethnicity, categories, genders)
    return out


@cache
def ethnic_group_codes(ref: Path | None = None) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per :data:`ETHNIC_COLUMNS`: (the group's Ethnicity codes, their national proportions within it)."""
    codes, national = distribution("ethnicity", ref)
    groups = [np.isin(codes, members) for members in _ETHNIC_COLUMNS.values()]
    groups.append(~np.logical_or.reduce(groups))
    return tuple((codes[g], national[g] / national[g].sum()) for g in groups)


def characteristic_mix(who: str, ref: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """England's children of ``who`` (see :data:`CHARACTERISTICS`) in the latest published year: (in
    need at 31 March per :data:`ETHNIC_COLUMNS`, on a plan per :data:`CATEGORY_CODES`)."""
    figures = _characteristic_figures(ref)[max(_characteristic_figures(ref))]
    return figures.ethnicity[who], figures.categories[who]


def fit_table(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``seed`` scaled to the row and column totals (iterative proportional fitting, 20 rounds)."""
    fit = seed * np.maximum(cols, 1e-9)
    for _ in range(20):
        fit *= (rows / np.maximum(fit.sum(axis=1), 1e-12))[:, None]
        fit *= cols / np.maximum(fit.sum(axis=0), 1e-12)
    return fit


def controlled_table(rows: np.ndarray, cols: np.ndarray, seed: np.ndarray | None = None) -> np.ndarray:
    """A table of whole numbers with row sums ``rows`` and column sums ``cols`` (equal totals), each cell
    as near its share ``rows[i] * cols[j] / total`` (or, given a ``seed`` table, the seed fitted to both
    sums) as both sums allow: the whole parts, then one more to cells by largest remainder while their row
    and column still lack one, then any unit left where its row and column meet. (A largest remainder of
    each row alone would never give a rare column to a small row, and England's count of it would fall
    short.)"""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    total = int(rows.sum())
    if total != int(cols.sum()):
        raise ValueError(f"row total {total} != column total {int(cols.sum())}")
    if seed is None:
        exact = np.outer(rows, cols) / max(total, 1)
    else:
        exact = fit_table(seed.astype(np.float64), rows.astype(np.float64), cols.astype(np.float64))
    out = np.floor(exact).astype(np.int64)
    row_left, col_left = rows - out.sum(axis=1), cols - out.sum(axis=0)
    for cell in np.argsort(out - exact, axis=None, kind="stable"):  # cells, not children: at most LAs x 6
        i, j = divmod(int(cell), len(cols))
        if row_left[i] > 0 and col_left[j] > 0:
            out[i, j] += 1
            row_left[i] -= 1
            col_left[j] -= 1
    for i in np.flatnonzero(row_left):
        while row_left[i] > 0:
            j = int(np.flatnonzero(col_left)[0])
            step = min(row_left[i], col_left[j])
            out[i, j] += step
            row_left[i] -= step
            col_left[j] -= step
    return out


def _nearest(years: list[int], year: int) -> int:
    """The year of ``years`` nearest ``year`` (the later one on a tie)."""
    return min(years, key=lambda y: (abs(y - year), -y))


def _plan_categories(year: int, total: int, ref: Path | None) -> np.ndarray:
    """England's ``total`` plans at 31 March ``year`` per :data:`CATEGORY_CODES`: A6's mix of the nearest
    year it has (2016-2020), by largest remainder."""
    years = [int(k.split("@")[1]) for k in national_shares(ref) if k.startswith("abuse_category@")]
    codes, mix = distribution(f"abuse_category@{_nearest(years, year)}", ref)
    return np.array(largest_remainder(total, [float(mix[list(codes).index(c)]) for c in CATEGORY_CODES]))


def _with_characteristics(targets: pl.DataFrame, ref: Path | None) -> pl.DataFrame:
    """Add per LA and year ``<who>_ethnicity`` and ``<who>_categories`` (counts per :data:`ETHNIC_COLUMNS`
    and :data:`CATEGORY_CODES`) of the unborn and unknown-gender children at 31 March. England's count
    that year (DfE's share of its children in need, or on a plan, at 31 March in the nearest published
    year times the year's total: 6,860 unborn and 1,220 of them on a plan in 2020 at scale 1) is allocated
    over the LAs by largest remainder, those on a plan in proportion to the LA's plans at 31 March, the
    others to its children in need not on a plan; England's ethnic groups (categories) are its published
    ones by largest remainder, spread over the LAs by :func:`controlled_table`. The generator makes
    exactly these children unborn (:meth:`LaSimulation._control_unborn`) or of unknown gender with these
    mixes (:mod:`cin_assets.synth.attributes`): drawn, England's counts were 3% off either way by seed.

    Also ``boys_categories`` and ``girls_categories``: the LA's other children on a plan at 31 March
    (born, of known gender) per category. England's boys are A5's share of them, spread over the LAs in
    proportion to those children; England's categories are the year's A6 mix less the unborn and
    unknown-gender children's, split between boys and girls as A5's table (fitted to both sums). Drawn
    per LA, England's 2020 boys on a plan for multiple categories came out 698-712 against 690 by seed."""
    figures = _characteristic_figures(ref)
    parts = []
    for year in sorted(set(targets["year"].to_list())):
        rows = targets.filter(pl.col("year") == year)
        f = figures[_nearest(list(figures), year)]
        cin, cpp = rows["At31_episodes"].to_numpy(), rows["CPP_At31"].to_numpy()
        cols = {}
        born, rest = cpp.copy(), _plan_categories(year, int(cpp.sum()), ref)
        for who in CHARACTERISTICS:
            in_need = round(f.counts[who][0] * cin.sum() / f.cin)
            planned = min(round(f.counts[who][1] * cpp.sum() / f.cpp), in_need)
            on_plan = np.array(largest_remainder(planned, cpp.astype(float).tolist()))
            others = np.array(largest_remainder(in_need - planned, (cin - cpp).astype(float).tolist()))
            ethnicity = largest_remainder(in_need, f.ethnicity[who].tolist())
            categories = np.array(largest_remainder(planned, f.categories[who].tolist()))
            cols[f"{who}_ethnicity"] = controlled_table(on_plan + others, np.array(ethnicity)).tolist()
            cols[f"{who}_categories"] = controlled_table(on_plan, categories).tolist()
            born, rest = born - on_plan, rest - categories
        boys = round(f.genders[0].sum() * born.sum() / f.genders.sum())
        rest = np.array(largest_remainder(int(born.sum()), np.clip(rest, 0, None).astype(float).tolist()))
        england = controlled_table(np.array([boys, born.sum() - boys]), rest, f.genders)
        la_boys = np.array(largest_remainder(boys, born.astype(float).tolist()))
        cols["boys_categories"] = controlled_table(la_boys, england[0]).tolist()
        cols["girls_categories"] = controlled_table(born - la_boys, england[1]).tolist()
        parts.append(rows.select("la_code", "year").with_columns(
            *(pl.Series(name, values, dtype=pl.List(pl.Int64)) for name, values in cols.items())
        ))  # fmt: skip
    return targets.join(pl.concat(parts), on=["la_code", "year"], how="left", maintain_order="left")


_D5_UNDER_1_YEAR = ("3_months_or_less", "more_than_3_months_6_months", "more_than_6_months_less_than_1_year")


@cache
def abuse_category_starts(ref: Path | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{reporting year: (codes, probabilities)}: the initial category mix of plans *starting* in the year.

    A6 counts plans open at 31 March, which started that year, the year before or earlier, in the shares
    D5 gives England's plans open at 31 March (under 1 year, 1 to 2 years, 2 years or more). So each year's
    starting mix is A6's mix less what the plans carried from the two earlier years' starting mixes bring
    (the first A6 year taken as steady); drawing A6's own mix for starts kept 2020's multiple category at
    2.8%, where A6 has 2.6%."""
    shares = national_shares(ref)
    years = sorted(int(k.split("@")[1]) for k in shares if k.startswith("abuse_category@"))
    table = national_d5(ref)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for year in years:
        codes, stock = distribution(f"abuse_category@{year}", ref)
        row = table.get(year)
        if not out or row is None:
            out[year] = (codes, stock)
            continue
        total = row["CPP_At31"]
        w0 = sum(row[c] for c in _D5_UNDER_1_YEAR) / total
        w1, w2 = row["1_year_less_than_2_years"] / total, row["2_years_or_more"] / total
        before = out.get(year - 1, out[min(out)])[1]
        earlier = out.get(year - 2, before)[1]
        starts = np.clip((stock - w1 * before - w2 * earlier) / w0, 0.0, None)
        out[year] = (codes, starts / starts.sum())
    return out


@cache
def national_d5(ref: Path | None = None) -> dict[int, dict[str, float]]:
    """{year: {indicator: value}}: England's published D5 figures (counts) per year."""
    path = (ref or reference.reference_dir()) / "published_la_indicators.csv"
    table = pl.read_csv(path, infer_schema=False).filter(
        (pl.col("geographic_level") == NATIONAL)
        & (pl.col("source_id").str.ends_with("D5"))
        & pl.col("value").str.contains(r"^\d+$")
    )
    out: dict[int, dict[str, float]] = {}
    for year, name, value in table.select("time_period", "indicator", "value").iter_rows():
        out.setdefault(int(year), {})[name] = float(value)
    return out


@cache
def _factor_bases(ref: Path | None) -> dict[tuple[str, int], int]:
    path = (ref or reference.reference_dir()) / "published_assessment_factors.csv"
    c3 = pl.read_csv(path, infer_schema=False).filter(
        (pl.col("indicator") == "Episodes_with_assessment_factor")
        & (pl.col("geographic_level") == LOCAL)
        & pl.col("value").str.contains(r"^\d+$")
    )
    return {(la, int(y)): int(v) for la, y, v in c3.select("old_la_code", "time_period", "value").iter_rows()}


def la_factor_base(la_code: str, year: int, scale: float, ref: Path | None = None) -> int | None:
    """The LA's published number of episodes with a factor recorded at assessment that year (C3), scaled;
    None where it is not published (before 2018, or suppressed)."""
    value = _factor_bases(ref).get((la_code, year))
    return None if value is None else scale_count(value, scale)


# LAIT's shares of episodes of need ending by duration, by the lower bound (days) of the drawn band.
CEASE_BANDS = {
    1: "CINCease3months",
    92: "CINCease3-6",
    183: "CINCease6-1",
    366: "CINCease1-2",
    731: "CINCease2more",
}


@cache
def _cease_table(ref: Path | None) -> pl.DataFrame:
    return _lait(tuple(CEASE_BANDS.values()), ref)


def la_cin_durations(la_code: str, lows: tuple[int, ...], ref: Path | None = None) -> dict[int, np.ndarray]:
    """Per reporting year 2013-2020: the probabilities of the drawn episode duration bands (in the order of
    their lower bounds ``lows``) for one LA: the national drawn shares, each band weighted by how much
    more (or less) common it is among the LA's episodes ending that year than England's (LAIT CINCease;
    the LA's median in years LAIT lacks, England's where it has none)."""
    _, drawn = distribution("cin_end_duration_days", ref)
    table = _cease_table(ref)
    bounds = sorted(
        CEASE_BANDS
    )  # a drawn band within a LAIT band (1-45 days: 3 months or less) takes its weight
    names = [CEASE_BANDS[max(b for b in bounds if b <= lo)] for lo in lows]
    england = {
        int(r["year"]): np.array([r[n] for n in names], dtype=np.float64)
        for r in table.filter(pl.col("la_code") == "*").iter_rows(named=True)
    }
    own = _own_rows(table, la_code)
    out = {}
    for r in own.iter_rows(named=True):
        mine = np.array([r[n] for n in names], dtype=np.float64)
        weight = np.where(
            np.isfinite(mine) & (england[int(r["year"])] > 0), mine / england[int(r["year"])], 1.0
        )
        probs = drawn * np.clip(weight, 0.1, 10.0)
        out[int(r["year"])] = probs / probs.sum()
    return out


# LAIT's shares of episodes of need open at 31 March by how long they have been open (B4's bands, in order).
OPEN_BANDS = ("CINTime3months", "CINTime3-6", "CINTime6-1", "CINTime1-2", "CINTime2more")


@cache
def _open_table(ref: Path | None) -> pl.DataFrame:
    return _lait(OPEN_BANDS, ref)


def _la_shares(table: pl.DataFrame, names: tuple[str, ...], la_code: str) -> dict[int, tuple[float, ...]]:
    """{year: the LA's LAIT values of ``names``} (0 where missing)."""
    own = _own_rows(table, la_code)
    return {int(r["year"]): tuple(float(r[n] or 0.0) for n in names) for r in own.iter_rows(named=True)}


def la_open_durations(la_code: str, ref: Path | None = None) -> dict[int, tuple[float, ...]]:
    """Per reporting year 2013-2020: the shares of one LA's episodes of need open at 31 March in B4's
    duration bands (LAIT CINTime; its median in years LAIT lacks, England's where it has none). The 31
    March controls keep open the cases that give these shares, so LAs with long-running caseloads keep them:
    drawing episode lengths alone gave the right ending durations (B5) or the right open ones, not both."""
    return _la_shares(_open_table(ref), OPEN_BANDS, la_code)


def la_ended_durations(la_code: str, ref: Path | None = None) -> dict[int, tuple[float, ...]]:
    """Per reporting year 2013-2020: the shares of one LA's episodes of need ending in the year in B5's
    duration bands (LAIT CINCease, with the same fallbacks), which the year-end controls meet by moving
    closure dates within the year."""
    return _la_shares(_cease_table(ref), tuple(CEASE_BANDS.values()), la_code)


# The year whose England shares of episodes open at 31 March that started in the last 3 months, and in the 3
# before, the referral dates reproduce with no extra weight on those months (LAIT CINTime3months 27.9% and
# CINTime3-6 11.3%, checked at scale 1).
RECENT_FIT_YEAR = 2019
_RECENT_BANDS = ("CINTime3months", "CINTime3-6")


@cache
def _england_open(indicator: str, ref: Path | None) -> dict[int, float]:
    table = _lait_table(indicator, ref).filter(pl.col("la_code") == "*")
    return {int(y): float(v) for y, v in table.select("year", indicator).iter_rows() if v is not None}


@cache
def _recent_ratios(ref: Path | None) -> dict[str, dict[int, tuple[float, float]]]:
    """{LA: {year: its episodes open at 31 March that started in the last 3 months, and in the 3 before (LAIT
    CINTime3months and CINTime3-6 of its CIN at 31 March), per episode started in the year (referrals less
    no further action and not in need), over England's}}."""
    t = published_targets(ref).select(
        "la_code", "year", "At31_episodes", (pl.col("Referrals") * (1 - pl.col("nfa") - pl.col("nin")))
    )
    open_ = {la: la_open_durations(la, ref) for la in t["la_code"].unique().to_list()}
    rows = [
        (la, y, open_[la][y][0] * at31, open_[la][y][1] * at31, started)
        for la, y, at31, started in t.iter_rows()
        if y in open_[la]
    ]
    frame = pl.DataFrame(rows, schema=["la", "year", "b0", "b1", "started"], orient="row").filter(
        pl.col("started") > 0
    )
    per_start = [
        (pl.col(b) / pl.col("started"))
        / (pl.col(b).sum().over("year") / pl.col("started").sum().over("year"))
        for b in ("b0", "b1")
    ]
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for la, year, r0, r1 in frame.select("la", "year", *per_start).iter_rows():
        out.setdefault(la, {})[year] = (r0, r1)
    return out


def referral_weights(year: int, la_code: str | None = None, ref: Path | None = None) -> tuple[float, float]:
    """How much a referral day in the year's last 3 months, and in the 3 before, weighs against the others.
    Nearly every episode of need started in the last 3 months is still open at 31 March, so England's share
    of open episodes that have lasted 3 months or less (LAIT CINTime3months) follows how many start then:
    25.6% in 2020 against 27.9% in 2019 with as many episodes starting in the year (B1), fewer referrals at
    the end of 2019-20; the 3 months before weigh 2 less that (3-6 months rose from 11.3% to 11.7%). With
    ``la_code``, the LA's own: each band's such episodes per episode started, against England's (Luton 2020:
    41.7% of its 2,852 open cases started in the last 3 months, England 25.6%), so that those months hold
    that many times England's share of the referrals (between 0.2 and 3 times the other days')."""
    r = 91 / 365  # 3 months' share of the year's days
    q = [
        (s := _england_open(band, ref))[min(max(year, min(s)), max(s))] / s[RECENT_FIT_YEAR]
        for band in _RECENT_BANDS
    ]
    own = _recent_ratios(ref).get(la_code or "", {})
    if not own:
        w = q[0] * (1 - r) / (1 - q[0] * r)  # so that r * w / (r * w + 1 - r) = q * r
        return w, 2 - w
    ratios = own[min(own, key=lambda y: (abs(y - year), y))]
    q0, q1 = (qi * ri for qi, ri in zip(q, ratios, strict=True))
    shrink = min(1.0, 0.9 / ((q0 + q1) * r))  # the rest of the year keeps a tenth of its days' share
    q0, q1 = q0 * shrink, q1 * shrink
    # weights q0 * rest and q1 * rest give the two spans of 3 months shares q0 * r and q1 * r of referrals
    rest = (1 - 2 * r) / (1 - (q0 + q1) * r)
    return min(max(q0 * rest, 0.2), 3.0), min(max(q1 * rest, 0.2), 3.0)
