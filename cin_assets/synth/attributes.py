"""Codes and identifiers for a finished history: what each child, episode and plan looks like.

Assigned once per LA after the simulation so that everything a child carries across years (LAchildID, UPN,
DOB, gender, ethnicity, disabilities) is fixed, and every episode keeps its referral source, primary need
and closure reason in every return it appears in. National mixes come from ``national_shares.csv``; the
second-plan share from the LA's published D3 values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cin_assets.census import calendar
from cin_assets.census.codes import ABUSE_CATEGORY, CHECK_LETTERS, DISABILITIES
from cin_assets.synth import calibration
from cin_assets.synth.simulate import CIN, NFA, NIN, History, day, substream

# UPNs of children in LAs created in April 2019 were allocated by the predecessor authority.
_UPN_LA = {"838": ("835",), "839": ("836", "837")}
_YEAR_ENDS = np.array([day(dt.date(y, 3, 31)) for y in calendar.REPORTING_YEARS])
_UN_OVER_6 = np.array(["UN2", "UN3", "UN5", "UN6"], dtype=object)
_UN_OVER_6_P = np.array([0.3, 0.2, 0.05, 0.45])
_ID_SPACE = 9_000_000  # LAchildIDs are 7-digit numbers 1000000..9999999
_UPN_SPACE = 10_000_000  # establishment (4 digits) x serial (3 digits)
_CONTROL_STREAM = 1_002  # spawn key of the characteristic controls' random stream
_UNKNOWN = ("0", "9")  # GenderCurrent codes A4/A5 count as unknown or indeterminate


@dataclass(frozen=True)
class Characteristics:
    """One LA-year's unborn and unknown-gender children at 31 March to meet exactly (counts from
    :func:`calibration._with_characteristics`)."""

    unborn_ethnicity: np.ndarray  # unborn children in need, per calibration.ETHNIC_COLUMNS
    unborn_categories: np.ndarray  # unborn children on a plan, per calibration.CATEGORY_CODES
    unknown_ethnicity: np.ndarray  # born children of unknown or indeterminate gender in need
    unknown_categories: np.ndarray  # of those, on a plan
    boys_categories: np.ndarray  # boys on a plan, per calibration.CATEGORY_CODES
    girls_categories: np.ndarray  # girls on a plan

    @classmethod
    def of(cls, row: dict) -> Characteristics:
        """From a :func:`calibration.scaled_targets` row."""
        return cls(*(np.array(row[name], dtype=np.int64) for name in (
            "unborn_ethnicity", "unborn_categories", "unknown_ethnicity", "unknown_categories",
            "boys_categories", "girls_categories",
        )))  # fmt: skip


@dataclass
class Attributes:
    """Per-row codes aligned with the History arrays (object arrays of str; "" = not recorded)."""

    child_id: np.ndarray
    upn: np.ndarray  # "" when the child never had one
    upn_reason: np.ndarray  # reason used when a child of 6 or over has no UPN (UN2..UN6)
    gender: np.ndarray  # once born
    ethnicity: np.ndarray  # once born
    ethnicity_unborn: np.ndarray  # shown while unborn (often not yet obtained)
    disability: np.ndarray  # bitmask over DISABILITIES (0 = NONE)
    expected_offset: np.ndarray  # expected birth date = DOB + offset (days), shown while unborn
    death: np.ndarray  # day number or -1
    source: np.ndarray
    need: np.ndarray
    reason: np.ndarray
    cpp_initial: np.ndarray
    cpp_latest: np.ndarray
    cpp_previous: np.ndarray


def _choose(rng: np.random.Generator, category: str, n: int, ref: Path | None) -> np.ndarray:
    codes, probs = calibration.distribution(category, ref)
    return codes[rng.choice(len(codes), size=n, p=probs)]


def _reporting_year(days: np.ndarray) -> np.ndarray:
    """Reporting year (ending 31 March) of day numbers."""
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return 1970 + (month + 9) // 12


def _referral_sources(rng: np.random.Generator, la_code: str, ref_days: np.ndarray, shown: np.ndarray,
                      ref: Path | None) -> np.ndarray:  # fmt: skip
    """ReferralSource per episode from the LA's mix in the referral's reporting year (warm-up years use
    the first real year's): each year's referrals from the police, schools and health services are the
    LA's LAIT percentage of them, as exactly as whole referrals allow, the rest in national proportions.
    Episodes first in a later return (``shown``) are in no year's referrals, so they are shared apart."""
    mixes = calibration.la_referral_sources(la_code, ref)
    years = _reporting_year(ref_days)
    keys = np.where(shown <= years, years, -years)
    out = np.empty(len(ref_days), dtype=object)
    for key in np.unique(keys):
        year = abs(int(key))
        codes, probs = mixes[int(np.clip(year, min(mixes), max(mixes)))]
        rows = np.flatnonzero(keys == key)
        group = np.full(len(codes), len(calibration.SOURCE_GROUPS))
        for i, members in enumerate(calibration.SOURCE_GROUPS.values()):
            group[np.isin(codes, members)] = i
        per_group = np.array(
            calibration.largest_remainder(len(rows), np.bincount(group, weights=probs).tolist())
        )
        counts = np.zeros(len(codes), dtype=np.int64)
        for g, k in enumerate(per_group):
            members = np.flatnonzero(group == g)
            counts[members] = calibration.largest_remainder(int(k), probs[members].tolist())
        out[rows] = rng.permutation(np.repeat(codes, counts))
    return out


def check_letters(tails: np.ndarray) -> np.ndarray:
    """UPN check letters (rule 1510) for an array of 12-character tails (characters 2-13, all digits)."""
    digits = np.asarray(tails, dtype="S12").view(np.uint8).reshape(-1, 12) - ord("0")
    return np.array(list(CHECK_LETTERS))[(digits.astype(np.int64) @ np.arange(2, 14)) % 23]


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """The ASCII decimal digits of non-negative integers below 10**width, zero-padded: one row each."""
    return (values[:, None] // 10 ** np.arange(width - 1, -1, -1) % 10 + ord("0")).astype(np.uint8)


def _upns(rng: np.random.Generator, la_code: str, dob: np.ndarray) -> np.ndarray:
    """Every child's UPN; its digits are built as bytes (adding object strings was a third of :func:`assign`)."""
    n = len(dob)
    options = _UPN_LA.get(la_code, (la_code,))
    la = np.array(options, dtype="S3").view(np.uint8).reshape(-1, 3)[rng.integers(0, len(options), n)]
    slot = (np.arange(n, dtype=np.int64) * 7919 + int(rng.integers(0, _UPN_SPACE))) % _UPN_SPACE
    allocated = dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970 + 5
    tails = np.hstack(
        [la, _digits(slot // 1000, 4), _digits(allocated % 100, 2), _digits(slot % 1000, 3)]
    ).view("S12")[:, 0]
    return np.strings.add(check_letters(tails), tails.astype(str))


def _codes_from(draws: np.ndarray, mix: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    codes, probs = mix
    return codes[np.minimum(np.searchsorted(np.cumsum(probs), draws, side="right"), len(codes) - 1)]


def _ethnicities(
    rng: np.random.Generator, gender: np.ndarray, ref: Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each child's Ethnicity once born, from the mix of their gender, and while unborn, from the unborn mix
    (England 2020 A4: ethnicity is not yet known for about half of unborn children, and UASC, mostly
    boys, make "Other" twice as common among boys as among girls)."""
    mixes = calibration.ethnicity_by_gender(ref)
    draws = rng.random(len(gender))
    born = np.empty(len(gender), dtype=object)
    for who, genders in calibration.ETHNICITY_BY.items():
        rows = np.flatnonzero(np.isin(gender, genders))
        born[rows] = _codes_from(draws[rows], mixes[who])
    return born, _codes_from(rng.random(len(gender)), mixes["Unborn"])


def _categories(rng: np.random.Generator, year: np.ndarray, gender: np.ndarray, unborn: np.ndarray,
                ref: Path | None) -> np.ndarray:  # fmt: skip
    """InitialCategoryOfAbuse per plan: the national mix of plans starting that year, weighted by the plan child's gender (or
    unborn at the plan's start) as in England 2020 A5 (sexual abuse is more common for girls, neglect for
    the unborn), with the base mix refitted (a few proportional steps) so that over the LA's plans of the
    year the expected mix stays the year's national one."""
    weights = calibration.category_weights(ref)
    out = np.empty(len(year), dtype=object)
    draws = rng.random(len(year))
    for y in np.unique(year):
        codes, probs = calibration.abuse_category_starts(ref)[int(y)]
        groups = [
            (np.flatnonzero((year == y) & (unborn if who == "Unborn" else ~unborn & np.isin(gender, genders))),
             np.array([weights[who][c] for c in codes]))
            for who, genders in calibration.CATEGORY_BY.items()
        ]  # fmt: skip
        base = probs.copy()
        for _ in range(5):
            expected = sum(len(rows) * (base * w) / (base * w).sum() for rows, w in groups)
            base = base * probs / np.maximum(expected / max(int((year == y).sum()), 1), 1e-12)
        for rows, w in groups:
            out[rows] = _codes_from(draws[rows], (codes, base * w / (base * w).sum()))
    return out


def _round_random(rng: np.random.Generator, total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights``: the whole parts, then the rest one each to cells drawn
    by their fractions (unbiased, unlike largest remainders, over many small LAs)."""
    w = np.clip(np.nan_to_num(weights.astype(np.float64)), 0.0, None)
    if total <= 0 or len(w) == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        w = np.ones(len(w))
    exact = total * w / w.sum()
    out = np.floor(exact).astype(np.int64)
    frac = exact - out
    left = total - int(out.sum())
    if left > 0:
        out[rng.choice(len(w), size=left, replace=False, p=frac / frac.sum())] += 1
    return out


def _genders(rng: np.random.Generator, h: History, ref: Path | None) -> np.ndarray:
    """GenderCurrent once born: children ever on a plan from A5's mix of children on a plan
    (:func:`calibration.plan_gender`), the others from the mix that keeps ``gender_born`` (A4) over the
    LA's children in need at 31 March (each child weighted by the year ends their episodes span)."""
    codes, probs = calibration.distribution("gender_born", ref)
    plan_codes, plan_probs = calibration.plan_gender(ref)
    plan_probs = plan_probs[[list(plan_codes).index(c) for c in codes]]
    ep, n_ch = h.episodes, len(h.children["dob"])
    ends = np.searchsorted(_YEAR_ENDS, ep["close"]) - np.searchsorted(_YEAR_ENDS, ep["ref"])
    weight = np.bincount(ep["child"], weights=np.maximum(ends, 0), minlength=n_ch)
    on_plan = np.zeros(n_ch, dtype=bool)
    on_plan[ep["child"][h.cpps["episode"]]] = True
    f = weight[on_plan].sum() / max(weight.sum(), 1.0)
    other = np.clip(probs - f * plan_probs, 0.0, None) / max(1.0 - f, 1e-9)
    draws = rng.random(n_ch)
    return np.where(
        on_plan, _codes_from(draws, (codes, plan_probs)), _codes_from(draws, (codes, other / other.sum()))
    ).astype(object)


def _disabilities(rng: np.random.Generator, n: int, la_code: str, ref: Path | None) -> np.ndarray:
    """Disability codes (bitmask) per child: England's prevalence scaled by the LA's region's (B2)."""
    ratio = calibration.disability_ratio(ref)[calibration.la_region(la_code, ref)]
    prevalence = calibration.national_shares(ref)["disability_prevalence"]["any"] * ratio
    shares = calibration.national_shares(ref)["disability_code"]
    p = np.array([shares[c] for c in DISABILITIES])
    has = rng.random(n) < prevalence
    bits = rng.random((n, len(DISABILITIES))) < p
    first = rng.choice(len(p), size=n, p=p / p.sum())  # a disabled child has at least one code
    none = ~bits.any(axis=1)
    bits[np.flatnonzero(none), first[none]] = True  # (only where the draws gave none: shares stay near p)
    mask = (bits * (1 << np.arange(len(p)))).sum(axis=1)
    return np.where(has, mask, 0).astype(np.int64)


def _previous_plans(
    rng: np.random.Generator, h: History, targets: dict[int, float], first_real: int
) -> np.ndarray:
    """NumberOfPreviousCPP: the child's earlier plans here, plus plans before (elsewhere) for some children,
    so that in every reporting year the plans starting that year that are a second or subsequent one are
    the LA's published share of them (``targets``: year -> share), as exactly as whole plans allow.

    Where the LA's own earlier plans already exceed that share, some second plans whose first ended before
    the year (so it is not in the same return) are recorded with none: the count is the LA's record, which
    DfE does not check against its history."""
    child = h.episodes["child"][h.cpps["episode"]]
    start = h.cpps["start"]
    order = np.lexsort((start, child))
    rank = np.zeros(len(child), dtype=np.int64)
    sc = child[order]
    first = np.r_[True, sc[1:] != sc[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(sc)), 0))
    rank[order] = np.arange(len(sc)) - group_start
    previous_end = np.zeros(len(child), dtype=np.int64)
    previous_end[order] = np.where(first, -1, np.r_[-1, h.cpps["end"][order][:-1]])
    n_children = len(h.children["dob"])
    before = np.zeros(n_children, dtype=np.int64)
    unrecorded = np.zeros(len(child), dtype=bool)
    year = _reporting_year(start)
    for y in sorted(targets):
        starting = np.flatnonzero((year == y) & (start >= first_real))
        first_plans = starting[rank[starting] == 0]
        k = round(targets[y] * len(starting)) - int((rank[starting] > 0).sum())
        chosen = first_plans[rng.permutation(len(first_plans))[: max(k, 0)]]
        before[child[chosen]] = rng.geometric(0.6, size=len(chosen))
        year_start = day(dt.date(y - 1, 4, 1))
        apart = starting[
            (rank[starting] > 0) & (previous_end[starting] >= 0) & (previous_end[starting] < year_start)
        ]
        unrecorded[apart[rng.permutation(len(apart))[: max(-k, 0)]]] = True
    return np.where(unrecorded, 0, rank + before[child])


def _year_end(h: History, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks over children: in need at 31 March ``year``, on a plan then, and on one started in the year."""
    start, end = day(dt.date(year - 1, 4, 1)), day(dt.date(year, 3, 31))
    n = len(h.children["dob"])
    ep, cpp = h.episodes, h.cpps
    in_need, planned, new = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    in_need[ep["child"][h.in_return(year) & (ep["close"] > end)]] = True
    open_ = (cpp["start"] <= end) & (cpp["end"] > end)
    planned[ep["child"][cpp["episode"][open_]]] = True
    new[ep["child"][cpp["episode"][open_ & (cpp["start"] >= start)]]] = True
    return in_need, planned & in_need, new & in_need


def _quota(n: int, counts: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``counts`` if they sum to ``n``, else ``n`` split in their proportions (``fallback``'s where they
    are all 0): the simulation may have missed the LA's count of a characteristic by a few."""
    if int(counts.sum()) == n:
        return counts
    return np.array(calibration.largest_remainder(n, (counts if counts.sum() else fallback).tolist()))


def _regroup(rng: np.random.Generator, group: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """New groups (0..len(quota)-1) for items now in ``group`` such that group ``g`` holds ``quota[g]``
    items (``quota`` sums to the items): as many items as the quota allows keep their group (chosen at
    random), the rest fill the groups still short."""
    n = len(group)
    order = np.lexsort((rng.random(n), group))
    rank = np.arange(n) - np.searchsorted(group[order], group[order])
    keep = np.zeros(n, dtype=bool)
    keep[order] = rank < quota[group[order]]
    left = quota - np.bincount(group[keep], minlength=len(quota))
    out = group.copy()
    out[~keep] = rng.permutation(np.repeat(np.arange(len(quota)), left))
    return out


def _index(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The position in ``codes`` of each of ``values`` (every value one of the codes)."""
    order = np.argsort(codes.astype(str))
    return order[np.searchsorted(codes.astype(str)[order], values.astype(str))]


def _control_genders(rng: np.random.Generator, h: History, gender: np.ndarray, years: list[int],
                     ends: dict[int, tuple[np.ndarray, ...]], targets: dict[int, Characteristics],
                     ref: Path | None) -> None:  # fmt: skip
    """Make exactly the LA's count of born children in need at 31 March of unknown or indeterminate gender
    (A4), those on a plan then (A5) and the others, every year in turn. Only children first in need at 31
    March as born children that year (``fixed`` ones were counted in an earlier year) change gender; those
    in need at no later 31 March are chosen first, so hardly any carry over into a later year's count (and
    its ethnic groups and categories, which only the new ones can make up), then those on a plan started
    in the year (whose category :func:`_control_categories` may set). The new ones on a plan then split
    between boys and girls so that the LA's born children on a plan hold its count of boys (A5's share,
    allocated over the LAs by :func:`calibration._with_characteristics`; drawn one by one, England's 2020
    boys on a plan were 25,904 against 25,740, and boys on a plan for sexual abuse 2.6% over)."""
    codes, probs = calibration.distribution("gender_born", ref)
    male = float(probs[codes == "1"].sum() / probs[np.isin(codes, ("1", "2"))].sum())
    plan_codes, plan_probs = calibration.plan_gender(ref)
    plan_male = np.array([plan_probs[plan_codes == c].sum() for c in ("1", "2")])
    dob = h.children["dob"]
    fixed = np.zeros(len(dob), dtype=bool)
    unknown = np.isin(gender, _UNKNOWN)
    later, after = {}, np.zeros(len(dob), dtype=bool)  # in need at a later 31 March
    for year in reversed(years):
        later[year], after = after, after | ends[year][0]
    for year in years:
        end = day(dt.date(year, 3, 31))
        in_need, planned, new_plan = ends[year]
        leaves = ~later[year]
        born = in_need & (dob <= end)
        counts = targets[year]
        for group, target in (
            (born & planned, int(counts.unknown_categories.sum())),
            (born & ~planned, int(counts.unknown_ethnicity.sum() - counts.unknown_categories.sum())),
        ):
            free = np.flatnonzero(group & ~fixed)
            want = max(target - int((group & fixed & unknown).sum()), 0)
            order = np.lexsort((rng.random(len(free)), ~unknown[free], ~new_plan[free], ~leaves[free]))
            chosen = np.zeros(len(free), dtype=bool)
            chosen[order[:want]] = True
            to_unknown, to_known = free[chosen & ~unknown[free]], free[~chosen & unknown[free]]
            gender[to_unknown] = np.where(rng.random(len(to_unknown)) < 0.5, "0", "9")
            gender[to_known] = np.where(rng.random(len(to_known)) < male, "1", "2")
            unknown[to_unknown], unknown[to_known] = True, False
        group = born & planned & ~unknown
        pair = np.array([counts.boys_categories.sum(), counts.girls_categories.sum()])
        _split_boys(rng, gender, group, fixed, int(_quota(int(group.sum()), pair, plan_male)[0]))
        fixed |= born


def _split_boys(rng: np.random.Generator, gender: np.ndarray, group: np.ndarray, fixed: np.ndarray,
                boys: int) -> None:  # fmt: skip
    """Make ``boys`` of ``group`` (children of known gender) boys, changing as few of its children not yet
    ``fixed`` as can be."""
    free = np.flatnonzero(group & ~fixed)
    k = boys - int((gender[group] == "1").sum())
    pool = free[gender[free] == ("2" if k > 0 else "1")]
    gender[rng.choice(pool, size=min(abs(k), len(pool)), replace=False)] = "1" if k > 0 else "2"


def _control_ethnicities(rng: np.random.Generator, h: History, gender: np.ndarray, ethnicity: np.ndarray,
                         unborn_ethnicity: np.ndarray, years: list[int],
                         ends: dict[int, tuple[np.ndarray, ...]], targets: dict[int, Characteristics],
                         ref: Path | None) -> None:  # fmt: skip
    """Give the unborn children in need at 31 March (their Ethnicity while unborn) and the children of
    unknown gender then exactly the LA's counts per A4 ethnic group, and its boys and girls their A4 mixes
    (rounded at random), every year in turn: a child keeps its code where its group's count allows, else
    gets one of a group still short (codes within a group in national proportions). Only children not
    counted in an earlier year (unborn children never were) change; the children counted before keep
    theirs and the others make up the rest."""
    groups = calibration.ethnic_group_codes(ref)
    codes = np.concatenate([g[0] for g in groups])
    group_of = np.repeat(np.arange(len(groups)), [len(g[0]) for g in groups])
    national = {who: calibration.characteristic_mix(who, ref)[0] for who in calibration.CHARACTERISTICS}
    by_gender = calibration.ethnicity_by_gender(ref)
    sexes = {
        who: np.array([by_gender[who][1][np.isin(by_gender[who][0], g[0])].sum() for g in groups])
        for who in ("Male", "Female")
    }
    dob = h.children["dob"]
    fixed = np.zeros(len(dob), dtype=bool)
    unknown_gender = np.isin(gender, _UNKNOWN)
    sex = {who: np.isin(gender, calibration.ETHNICITY_BY[who]) for who in sexes}  # genders stay put here

    def recode(values: np.ndarray, kids: np.ndarray, quota: np.ndarray) -> None:
        now = group_of[_index(codes, values[kids])]
        new = _regroup(rng, now, quota)
        for g, (members, p) in enumerate(groups):
            moved = kids[(new == g) & (now != g)]
            values[moved] = members[rng.choice(len(members), size=len(moved), p=p)]

    for year in years:
        end = day(dt.date(year, 3, 31))
        in_need = ends[year][0]
        counts = targets[year]
        unborn = np.flatnonzero(in_need & (dob > end))
        recode(unborn_ethnicity, unborn, _quota(len(unborn), counts.unborn_ethnicity, national["unborn"]))
        unknown = in_need & (dob <= end) & unknown_gender
        held = np.bincount(group_of[_index(codes, ethnicity[unknown & fixed])], minlength=len(groups))
        free = np.flatnonzero(unknown & ~fixed)
        recode(ethnicity, free, _quota(len(free), np.clip(counts.unknown_ethnicity - held, 0, None),
                                       national["unknown"]))  # fmt: skip
        # boys and girls in need at 31 March: their A4 mix to the rounding, not to the draws' noise
        # (independent draws left England's girls of "other" ethnicity 2-3% off)
        for who, mix in sexes.items():
            members = in_need & (dob <= end) & sex[who]
            held = np.bincount(group_of[_index(codes, ethnicity[members & fixed])], minlength=len(groups))
            want = _round_random(rng, int(members.sum()), mix) - held
            free = np.flatnonzero(members & ~fixed)
            recode(ethnicity, free, _quota(len(free), np.clip(want, 0, None), mix))
        fixed |= in_need & (dob <= end)


def _control_categories(rng: np.random.Generator, h: History, initial: np.ndarray, dob: np.ndarray,
                        gender: np.ndarray, years: list[int], targets: dict[int, Characteristics],
                        ref: Path | None) -> None:  # fmt: skip
    """Give the plans open at 31 March of unborn children, of children of unknown gender, of boys and of
    girls exactly the LA's counts per initial category of abuse (A5; A6 is their sum), every year in turn
    (``dob``, ``gender``: of each plan's child). Only plans started in the year change (unborn children's
    all did; the others' plans carried from earlier years keep theirs and the new ones make up the rest).
    (Before, the plans open at 31 March were fitted to A6's mix and A5's gender weights per LA and rounded
    at random, which left England's cells of about 700 up to 3% off by seed.)"""
    cats = np.array(calibration.CATEGORY_CODES, dtype=object)
    national = {who: calibration.characteristic_mix(who, ref)[1] for who in calibration.CHARACTERISTICS}
    start, finish = h.cpps["start"], h.cpps["end"]
    n_cats = len(cats)
    unknown = np.isin(gender, _UNKNOWN)
    boys = np.isin(gender, calibration.CATEGORY_BY["Male"])
    for year in years:
        end, first = day(dt.date(year, 3, 31)), day(dt.date(year - 1, 4, 1))
        open_ = (start <= end) & (finish > end)
        new = open_ & (start >= first)
        born = dob <= end
        counts = targets[year]
        unborn = np.flatnonzero(open_ & ~born)
        initial[unborn] = cats[_regroup(
            rng, _index(cats, initial[unborn]), _quota(len(unborn), counts.unborn_categories, national["unborn"])
        )]  # fmt: skip
        known = counts.boys_categories + counts.girls_categories
        for group, target, fallback in (
            (unknown, counts.unknown_categories, national["unknown"]),
            (~unknown & boys, counts.boys_categories, known),
            (~unknown & ~boys, counts.girls_categories, known),
        ):
            held = np.bincount(_index(cats, initial[open_ & ~new & born & group]), minlength=n_cats)
            plans = np.flatnonzero(new & born & group)
            quota = _quota(len(plans), np.clip(target - held, 0, None), fallback)
            initial[plans] = cats[_regroup(rng, _index(cats, initial[plans]), quota)]


def assign(h: History, la_code: str, rng: np.random.Generator, cpp_subsequent: dict[int, float],
           horizon_end: int, ref: Path | None = None,
           characteristics: dict[int, Characteristics] | None = None) -> Attributes:  # fmt: skip
    """Codes for every child, episode and plan of one LA's history (``horizon_end``: last 31 March simulated;
    ``cpp_subsequent``: reporting year -> published share of plans starting that are a second one;
    ``characteristics``: reporting year -> the unborn and unknown-gender children to meet exactly, by
    ethnic group and category of abuse, drawing from their own stream)."""
    n_ch, n_ep, n_cpp = len(h.children["dob"]), len(h.episodes["ref"]), len(h.cpps["start"])
    dob = h.children["dob"]
    ep = h.episodes
    shares = calibration.national_shares(ref)

    ids = 1_000_000 + (np.arange(n_ch, dtype=np.int64) * 7919 + int(rng.integers(0, _ID_SPACE))) % _ID_SPACE
    has_upn = rng.random(n_ch) < 0.9
    upn = np.where(has_upn, _upns(rng, la_code, dob), "")
    upn_reason = _UN_OVER_6[rng.choice(len(_UN_OVER_6), size=n_ch, p=_UN_OVER_6_P)]
    gender = _genders(rng, h, ref)
    control = substream(rng, _CONTROL_STREAM)
    targets = characteristics or {}
    controlled = sorted(targets)
    ends = {year: _year_end(h, year) for year in controlled}
    _control_genders(control, h, gender, controlled, ends, targets, ref)
    ethnicity, ethnicity_unborn = _ethnicities(rng, gender, ref)
    _control_ethnicities(control, h, gender, ethnicity, ethnicity_unborn, controlled, ends, targets, ref)
    disability = _disabilities(rng, n_ch, la_code, ref)
    expected_offset = rng.integers(-14, 15, size=n_ch)

    # Closure reasons: NIN episodes RC8, NFA referrals RC7 (no assessment, so not RC8: query 8825Q);
    # CIN episodes RC1-RC6 only when it is the child's last episode (the child moves on), else RC7, and RC8
    # for a few episodes closed with no assessment in the closure year's return (assessed in an earlier
    # year, no enquiry, conference or plan: rule 2990; they raise query 8825Q as real ones do), which
    # DfE counts as episodes of need ending (B6). Each reason's share is of the CIN episodes closing in
    # each reporting year, so no year gets more than its share; England's, scaled by the LA's region's (B6).
    reason = np.where(ep["kind"] == NIN, "RC8", "RC7").astype(object)
    last = np.zeros(n_ep, dtype=bool)
    last_of_child = np.full(n_ch, -1, dtype=np.int64)
    np.maximum.at(last_of_child, ep["child"], np.arange(n_ep))
    last[last_of_child[last_of_child >= 0]] = True
    closed_cin = (ep["kind"] == CIN) & (ep["close"] <= horizon_end)
    age_at_close = (ep["close"] - dob[ep["child"]]) / 365.25
    close_year = _reporting_year(ep["close"])
    last_auth = np.full(n_ep, -1, dtype=np.int64)
    np.maximum.at(last_auth, h.assessments["episode"], h.assessments["auth"])
    protected = np.zeros(n_ep, dtype=bool)
    protected[h.s47["episode"]] = True
    protected[h.cpps["episode"]] = True
    # 1 April opening the reporting year of closure
    year_start = (
        ((close_year - 1971).astype("datetime64[Y]").astype("datetime64[M]") + 3).astype("datetime64[D]")
    ).astype(np.int64)
    eligible = {
        "RC1": last & closed_cin & (age_at_close >= 0) & (age_at_close < 12),
        "RC2": last & closed_cin & (age_at_close > 0),
        "RC3": last & closed_cin & (age_at_close >= 0),
        "RC4": last & closed_cin & (age_at_close >= 0),
        "RC5": last & closed_cin,
        "RC6": last & closed_cin & (age_at_close >= 17),
        "RC8": closed_cin & ~protected & (ep["icpc"] < 0) & (last_auth >= 0) & (last_auth < year_start),
    }
    free = np.ones(n_ep, dtype=bool)
    years, counts = np.unique(close_year[closed_cin], return_counts=True)
    closing = {int(y): int(n) for y, n in zip(years, counts, strict=True)}
    region = calibration.la_region(la_code, ref)
    for code, ok in eligible.items():
        share = shares["closure_reason_cin"][code] * calibration.closure_ratio(code, ref)[region]
        for y, n in closing.items():
            pool = np.flatnonzero(ok & free & (close_year == y))
            k = min(round(share * n), len(pool))
            chosen = rng.choice(pool, size=k, replace=False) if k else pool[:0]
            reason[chosen] = code
            free[chosen] = False
    death_child = ep["child"][reason == "RC2"]
    death = np.full(n_ch, -1, dtype=np.int64)
    death[death_child] = ep["close"][reason == "RC2"]

    source = _referral_sources(rng, la_code, ep["ref"], ep["shown"], ref)
    need = _choose(rng, "primary_need", n_ep, ref)
    has_plan = np.zeros(n_ep, dtype=bool)
    has_plan[h.cpps["episode"]] = True
    need = np.where(has_plan & (rng.random(n_ep) < 0.85), "N1", need)
    disabled = disability[ep["child"]] > 0
    need = np.where(~has_plan & disabled & (rng.random(n_ep) < 0.5), "N2", need)
    need = np.where((ep["kind"] == NIN) & (rng.random(n_ep) < 0.4), "N9", need)
    need = np.where(ep["kind"] == NFA, "", need).astype(object)

    start_year = h.cpps["start"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    month = h.cpps["start"].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    report_year = np.clip(start_year + (month >= 3), 2016, 2020)
    plan_child = ep["child"][h.cpps["episode"]]
    initial = _categories(rng, report_year, gender[plan_child], h.cpps["start"] < dob[plan_child], ref)
    _control_categories(control, h, initial, dob[plan_child], gender[plan_child], controlled, targets, ref)
    latest = np.where(
        rng.random(n_cpp) < 0.9, initial, np.array(ABUSE_CATEGORY, dtype=object)[rng.integers(0, 5, n_cpp)]
    )
    previous = _previous_plans(rng, h, cpp_subsequent, day(dt.date(2012, 4, 1)))

    return Attributes(
        child_id=ids.astype(str).astype(object),
        upn=upn.astype(object),
        upn_reason=upn_reason,
        gender=gender,
        ethnicity=ethnicity,
        ethnicity_unborn=ethnicity_unborn,
        disability=disability,
        expected_offset=expected_offset,
        death=death,
        source=source,
        need=need,
        reason=reason,
        cpp_initial=initial,
        cpp_latest=latest,
        cpp_previous=previous,
    )


def active_children(h: History, year: int) -> np.ndarray:
    """Children with an episode active at some time in reporting ``year`` (those in that year's return)."""
    return h.children_of(h.in_return(year))


def fix_return_queries(h: History, attrs: Attributes, years: list[int], rng: np.random.Generator) -> None:
    """Make every return pass the LA-level queries, in year order, by changing children permanently.

    2886Q: at most 2% of born children with gender 0; 2887Q: 8 or more disability codes used; 2888Q: some
    child with more than one disability. Small returns can miss these by chance; changes only add codes
    to a child or replace an unknown gender, so a child's record stays the same from that year on.
    """
    for year in years:
        end = day(dt.date(year, 3, 31))
        kids = active_children(h, year)
        born = kids[h.children["dob"][kids] <= end]
        if len(born) == 0:
            continue
        unknown = born[attrs.gender[born] == "0"]
        if len(unknown) > 0.02 * len(born):
            attrs.gender[unknown] = np.where(rng.random(len(unknown)) < 0.55, "1", "2")
        masks = attrs.disability[born]
        used = np.bitwise_or.reduce(masks) if len(masks) else 0
        multi = (np.array([bin(int(m)).count("1") for m in np.unique(masks)]) > 1).any()
        if bin(int(used)).count("1") >= 8 and multi:
            continue
        disabled = born[masks > 0]
        host = disabled[rng.integers(len(disabled))] if len(disabled) else born[rng.integers(len(born))]
        missing = [b for b in range(len(DISABILITIES)) if not used >> b & 1]
        need = max(8 - (bin(int(used)).count("1")), 0)
        add = rng.choice(missing, size=min(need, len(missing)), replace=False) if need else []
        mask = int(attrs.disability[host]) | sum(1 << int(b) for b in add)
        if bin(mask).count("1") < 2:  # 2888Q: one more code for the host
            spare = [b for b in range(len(DISABILITIES)) if not mask >> b & 1]
            mask |= 1 << int(rng.choice(spare))
        attrs.disability[host] = mask
