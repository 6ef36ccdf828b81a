"""The generated census: calibration, cross-year coherence, realistic mixes, determinism."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from cin_assets import reference
from cin_assets.census import calendar, reader
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.datasets.catalogue.common import UNKNOWN_GENDER
from cin_assets.measures import build
from cin_assets.measures.fidelity import compare, our_figures, real_figures
from cin_assets.synth import calibration, generate_census
from cin_assets_tests.measures.census_builder import value as cell

from .conftest import LAS, SEED, YEARS


def counts(t: dict[str, pl.DataFrame], year: int) -> pl.DataFrame:
    """The six calibrated counts per LA, counted the way the pipeline counts them."""
    start, end = calendar.census_period(year)
    ep, s47, cpp = t["episodes"], t["section47"], t["cpps"]
    key = ["la_code", "LAchildID", "episode_id"]
    in_y = lambda c: pl.col(c).is_between(start, end)  # noqa: E731
    s47_icpc = s47.filter(in_y("DateOfInitialCPC")).select(*key, pl.col("DateOfInitialCPC"))
    epi_icpc = (
        ep.filter(in_y("DateOfInitialCPC"))
        .select(*key, "DateOfInitialCPC")
        .join(s47_icpc, on=[*key, "DateOfInitialCPC"], how="anti")
    )
    parts = {
        "Referrals": ep.filter(in_y("CINreferralDate")),
        "At31_episodes": ep.filter((pl.col("CINreferralDate") <= end) & pl.col("CINclosureDate").is_null()),
        "Section47": s47.filter(in_y("S47ActualStartDate")),
        "ICPC": pl.concat([s47_icpc, epi_icpc]),
        "CPP_start": cpp.filter(in_y("CPPstartDate")),
        "CPP_At31": cpp.filter((pl.col("CPPstartDate") <= end) & pl.col("CPPendDate").is_null()),
    }
    out = pl.DataFrame({"la_code": sorted(t["headers"]["la_code"].to_list())})
    for name, frame in parts.items():
        out = out.join(frame.group_by("la_code").agg(pl.len().alias(name)), on="la_code", how="left")
    return out.fill_null(0)


def test_one_return_per_la_and_year(census_dir: Path) -> None:
    for year in YEARS:
        expected = {la for la in LAS if la in calibration.la_codes(year)}
        assert {p.stem for p in (census_dir / str(year)).glob("*.xml")} == expected


def test_counts_equal_published_values_at_scale_1(tables: dict) -> None:
    for year in YEARS:
        got = counts(tables[year], year)
        targets = calibration.published_targets().filter(pl.col("year") == year)
        for name in calibration.COUNTS:
            published = dict(reference.published_la_value(name, year).drop_nulls().iter_rows())
            target = dict(targets.select("la_code", name).iter_rows())
            for la, value in got.select("la_code", name).iter_rows():
                assert value == published.get(la, target[la]), (year, la, name)


def test_conferences_fall_in_the_published_c4_bands(tables: dict) -> None:
    """Each LA's conferences by working days from the enquiry (C4) are its published band counts, and a
    suppressed band holds what its published ICPCs leave (City of London's and the Isles of Scilly's)."""
    checked = 0
    for year in YEARS:
        c4 = build(DATASETS["C4"], year, tables[year]).filter(
            pl.col("old_la_code").is_in(tables[year]["headers"]["la_code"].implode())
        )
        targets = calibration.published_targets().filter(pl.col("year") == year)
        wanted = dict(targets.select("la_code", "icpc_band_counts").iter_rows())
        for band_no, band in enumerate(calibration.ICPC_BANDS):
            published = dict(reference.published_la_value(band, year).drop_nulls().iter_rows())
            for la, value in c4.select("old_la_code", band).iter_rows():
                assert int(value) == published.get(la, wanted[la][band_no]), (year, la, band)
                checked += la in published
    assert checked >= 30


def test_each_las_re_referrals_are_its_published_count(tables: dict) -> None:
    """C1 re-referrals (a referral within 12 months of the child's previous one, looking back on 2019's
    return) are each LA's published count, or its imputed one where DfE suppressed it; Dorset, new in
    2020, has no look-back and none."""
    c1 = build(DATASETS["C1"], 2020, tables[2020], tables[2019])
    targets = calibration.published_targets().filter(pl.col("year") == 2020)
    wanted = {
        la: round(n * share)
        for la, n, share in targets.select("la_code", "Referrals", "rereferral").iter_rows()
    }
    published = dict(reference.published_la_value("Re_referrals", 2020).drop_nulls().iter_rows())
    checked = 0
    for la in set(tables[2020]["headers"]["la_code"].to_list()) - {"838"}:
        got = c1.filter(pl.col("old_la_code") == la)["Re_referrals"].item()
        assert int(got) == published.get(la, wanted[la]) == wanted[la], la
        checked += la in published
    assert checked >= 2


@pytest.mark.parametrize(
    ("code", "column"),
    [
        ("C1", "Referrals_child"),
        ("C1", "Re_referrals_child"),
        ("C4", "Section47_child"),
        ("C4", "ICPC_child"),
    ],
)
def test_each_las_children_referred_enquired_about_and_conferenced_are_its_published_counts(
    tables: dict, code: str, column: str
) -> None:
    """C1 children referred and re-referred, and C4 children with an enquiry and with a conference, in the
    year are each LA's published counts. A child referred again within the year adds a referral but no
    child, so exactly that many re-referrals go to children referred earlier in the year (late in the year
    most must: few children referred before it are within 12 months), and of those exactly as many as
    re-referrals exceed the children re-referred (left to chance, children re-referred were 2% off at the
    LA median) to children re-referred earlier in the year; a child with enquiries (conferences) on two
    episodes counts once, so exactly that many of the children with one earlier in the year get an episode
    with one (left to chance, children conferenced were 0.7% off at the LA median; a child conferenced
    returns within the year only once its case closed, so where an LA's figures need many such children
    (Hartlepool 2019: 11, 5% of its 206 conferences) a few may be missing: within 3%). The two
    tiniest LAs (City of London, Isles of Scilly: about 20 referrals and 5 enquiries a year) may have too
    few children to choose from: within 2; a larger LA's year may miss by one where a month runs out of
    children (the simulation's shortfalls, ``test_simulate``)."""
    larger, conferenced_off = 0, 0
    for year in YEARS:
        figures = _against_real(tables[year], year, code).filter(pl.col("column") == column)
        off = figures.filter(~pl.col("exact")).select("old_la_code", "real", "ours").rows()
        assert figures.height >= 3, figures
        if column == "ICPC_child":
            assert all(abs(a - b) <= max(2, 0.03 * a) for _, a, b in off), off
            conferenced_off += len(off)
            continue
        assert all(abs(a - b) <= (2 if la in ("201", "420") else 1) for la, a, b in off), off
        larger += sum(la not in ("201", "420") for la, _, _ in off)
    assert larger <= 1
    assert conferenced_off <= 3  # of 9 LA-years (left to chance: 16% of LA figures were exact)


@pytest.mark.parametrize(
    ("column", "exact", "within", "tiny"),
    [("Started_child", 4, 0.03, 2), ("Ended_child", 4, 0.03, 2), ("Anypoint_child", 2, 0.03, 5)],
)
def test_each_las_children_starting_in_need_and_ending_are_near_its_published_counts(
    tables: dict, column: str, exact: int, within: float, tiny: int
) -> None:
    """B1's children starting, in need at any point and ending an episode of need in the year: which of the
    year's short episodes close as not in need is swapped (episode counts unchanged) until each LA's counts
    are its published ones, as far as its children allow (left to chance, 0 to 6 of the ~150 LA figures
    were exact, 0.6% to 1.6% off at the LA median; now, at scale 1, 73-77% of children starting, 58% of
    children ending and 33-46% of children in need at any point are exact, 98% within 2.5%): an LA short
    of children with two episodes of one kind keeps a few (children with a case carried over from the year
    before and a new one are few, so children in need at any point stay a little above: Dorset 2020,
    1.5%). The two tiniest LAs (City of London, Isles of Scilly) have few children to swap: within
    ``tiny``."""
    hits, checked = 0, 0
    for year in YEARS:
        figures = _against_real(tables[year], year, "B1").filter(pl.col("column") == column)
        rows = figures.select("old_la_code", "real", "ours").rows()
        checked += len(rows)
        hits += int(figures["exact"].sum())
        assert all(abs(b - a) <= (tiny if la in ("201", "420") else within * a) for la, a, b in rows), rows
    assert checked == 9
    assert hits >= exact


def test_each_las_plans_ending_are_its_derived_count_as_far_as_a_return_can_leave_plans_out(
    tables: dict,
) -> None:
    """D1's plans ending in 2020, per LA, as published: with the plans starting and open at both year ends
    exact, the plans ending are what those leave (the flow), and DfE's figures (derived from LAIT's rate)
    mostly have a few fewer: as many plans open at 1 April 2019 are left out of the 2020 return. Where
    they have more (Hartlepool 2019), plans missing from the earlier return would be needed: the flow."""
    d1 = {year: build(DATASETS["D1"], year, tables[year]) for year in YEARS}
    real = _against_real(tables[2020], 2020, "D1").filter(pl.col("column") == "CPP_end")
    left_out = 0
    for la, published, ours in real.select("old_la_code", "real", "ours").iter_rows():
        if la not in tables[2019]["headers"]["la_code"].to_list():
            continue  # Dorset's first return: its plans at 1 April are its predecessors'
        flow = sum(
            sign * int(cell(d1[year], column, la))
            for sign, year, column in ((1, 2019, "CPP_At31"), (1, 2020, "CPP_start"), (-1, 2020, "CPP_At31"))
        )
        assert ours == min(published, flow), (la, published, ours, flow)
        left_out += flow - int(ours)
    assert left_out >= 3


def test_unborn_and_unknown_gender_children_are_each_las_allocation(tables: dict) -> None:
    """A4/A5's unborn children and children of unknown gender at 31 March, by ethnic group and initial
    category of abuse, are exactly the LAs' allocations of England's counts (A4/A5 have England rows only,
    so the census's England is the sum over its LAs), and the allocations over every LA sum to England's
    published 2020 figures."""
    rows = {"unborn": ("Unborn",) * 2, "unknown": (UNKNOWN_GENDER,) * 2}
    for year in YEARS:
        las = tables[year]["headers"]["la_code"].implode()
        targets = calibration.scaled_targets(1.0).filter(
            (pl.col("year") == year) & pl.col("la_code").is_in(las)
        )
        a4, a5 = (build(DATASETS[code], year, tables[year]) for code in ("A4", "A5"))
        for who, (a4_row, a5_row) in rows.items():
            wanted = [sum(v) for v in zip(*targets[f"{who}_ethnicity"].to_list(), strict=True)]
            got = a4.filter(pl.col("characteristic") == a4_row).select(calibration.ETHNIC_COLUMNS).row(0)
            assert list(got) == wanted, (year, who, got, wanted)
            wanted = [sum(v) for v in zip(*targets[f"{who}_categories"].to_list(), strict=True)]
            got = a5.filter(pl.col("characteristic") == a5_row).select(calibration.CATEGORY_COLUMNS).row(0)
            assert list(got) == wanted, (year, who, got, wanted)
        assert sum(sum(v) for v in targets["unborn_ethnicity"].to_list()) >= 50
    england = calibration.scaled_targets(1.0).filter(pl.col("year") == 2020)
    total = lambda name: [sum(v) for v in zip(*england[name].to_list(), strict=True)]  # noqa: E731
    assert total("unborn_ethnicity") == [2760, 370, 180, 190, 90, 6860 - 3590]
    assert total("unborn_categories") == [850, 90, 20, 240, 20]
    assert total("unknown_ethnicity") == [520, 50, 60, 60, 20, 930 - 710]
    assert sum(total("unknown_categories")) == 70


def test_each_las_boys_and_girls_on_a_plan_are_its_allocation_of_a5(tables: dict) -> None:
    """Per LA and year, its boys and girls on a plan at 31 March by initial category of abuse are exactly
    its allocation of England's A5 cells, and those allocations sum to England's published 2020 figures to
    within 10 (A5 and A6 round to 10 each, and the cells are fitted to A6's totals). Drawn one by one,
    England's boys on a plan were 164 over in 2020; fitted and rounded per LA, boys on a plan for multiple
    categories came out 698-712 against 690 by seed. The tiniest LAs' 1 to 5 plans may all be carried
    from a year whose count fixed their children's gender (City of London 2019 at seed 7: two boys for an
    allocation of a boy and a girl): a plan or so off."""
    checked, tiny_off = 0, 0
    for year in YEARS:
        end = calendar.census_period(year)[1]
        t = tables[year]
        planned = t["cpps"].filter((pl.col("CPPstartDate") <= end) & pl.col("CPPendDate").is_null())
        got = (
            planned.join(t["children"], on=["la_code", "LAchildID"])
            .filter(pl.col("PersonBirthDate").is_not_null() & pl.col("GenderCurrent").is_in(["1", "2"]))
            .group_by("la_code", "GenderCurrent", "InitialCategoryOfAbuse")
            .len()
        )
        targets = calibration.scaled_targets(1.0).filter(pl.col("year") == year)
        for la, boys, girls in targets.select("la_code", "boys_categories", "girls_categories").iter_rows():
            if la not in t["headers"]["la_code"].to_list():
                continue
            for code, wanted in (("1", boys), ("2", girls)):
                counts = dict(got.filter((pl.col("la_code") == la) & (pl.col("GenderCurrent") == code))
                              .select("InitialCategoryOfAbuse", "len").iter_rows())  # fmt: skip
                got_la = [counts.get(c, 0) for c in calibration.CATEGORY_CODES]
                if la in ("201", "420") and got_la != wanted:
                    tiny_off += sum(abs(a - b) for a, b in zip(got_la, wanted, strict=True))
                    continue
                assert got_la == wanted, (year, la, code)
            checked += 1
    assert tiny_off <= 2
    assert checked == sum(tables[year]["headers"].height for year in YEARS)
    england = calibration.scaled_targets(1.0).filter(pl.col("year") == 2020)
    for name, published in (
        ("boys_categories", [13050, 2050, 770, 9170, 690]),
        ("girls_categories", [12080, 1670, 1170, 8950, 610]),
    ):
        total = [sum(v) for v in zip(*england[name].to_list(), strict=True)]
        assert all(abs(a - b) <= 10 for a, b in zip(total, published, strict=True)), (name, total)


def test_a_child_unborn_in_one_return_is_born_in_the_next(tables: dict) -> None:
    """The unborn control moves dates of birth past 31 March: every child with only an expected date of
    birth in 2019's return has a date of birth in 2020's (after 31 March 2019, within 14 days of the
    expected one)."""
    key = ["la_code", "LAchildID"]
    unborn = tables[2019]["children"].filter(pl.col("PersonBirthDate").is_null())
    later = unborn.select(*key, "ExpectedPersonBirthDate").join(
        tables[2020]["children"].select(*key, "PersonBirthDate", "ExpectedPersonBirthDate"),
        on=key,
        suffix="_next",
    )
    assert later.height >= 20
    assert later["ExpectedPersonBirthDate_next"].is_null().all()
    assert (later["PersonBirthDate"] > dt.date(2019, 3, 31)).all()
    gap = (later["PersonBirthDate"] - later["ExpectedPersonBirthDate"]).dt.total_days().abs()
    assert gap.max() <= 14


def _against_real(tables: dict, year: int, code: str) -> pl.DataFrame:
    """Data set ``code`` built from the census against DfE's real figures for the census's LAs."""
    ds = {code: DATASETS[code]}
    ours = our_figures({code: build(DATASETS[code], year, tables)}, ds)
    return compare(real_figures(year, ds), ours).filter(
        pl.col("old_la_code").is_in(tables["headers"]["la_code"].implode())
    )


def _duration_errors(tables: dict, code: str, prefix: str) -> dict[str, list[float]]:
    """Per LA (Hartlepool, East Sussex, Dorset), our LAIT duration shares' distance from DfE's, every band
    and year."""
    errors: dict[str, list[float]] = {}
    for year in YEARS:
        figures = _against_real(tables[year], year, code).filter(
            pl.col("column").str.starts_with(prefix) & pl.col("old_la_code").is_in(["805", "845", "838"])
        )
        for la, real, ours in figures.select("old_la_code", "real", "ours").iter_rows():
            errors.setdefault(la, []).append(abs(ours - real))
    return errors


def test_open_episodes_by_duration_are_the_las_lait_shares(tables: dict) -> None:
    """B4: each LA's children in need at 31 March fall in the duration bands of its LAIT CINTime shares,
    to their rounding (the counts are the shares of the LA's published total by largest remainder): here
    Hartlepool and East Sussex, and Dorset's first return within a few cases, 0.35 points (its referrals
    fall in the months its short cases need: for its 26.2% open 3 months or less, a day of its last 3
    months weighs 2.4 times one of its first 6). (The two tiniest LAs have a handful of cases, a band a
    case.)"""
    errors = _duration_errors(tables, "B4", "LAIT:CINTime")
    assert sorted(len(e) for e in errors.values()) == [5, 10, 10], errors  # 5 bands, 2 years (Dorset: 2020)
    assert max(errors["805"] + errors["845"]) <= 0.15 and max(errors["838"]) <= 0.35, errors


def test_ended_episodes_by_duration_follow_the_las_lait_shares(tables: dict) -> None:
    """B5: each LA's episodes ending in the year fall in the duration bands of its LAIT CINCease shares,
    to DfE's rounding: here Hartlepool and East Sussex, every band; Dorset's first return within 2 points.
    Closure dates move across each band boundary; where too few can (across 2 years: a case open 2 years
    or more at 31 March was open a year or more at 1 April), which cases stay open at 31 March changes
    instead, B4 keeping its bands."""
    errors = _duration_errors(tables, "B5", "LAIT:CINCease")
    assert sorted(len(e) for e in errors.values()) == [5, 10, 10], errors
    assert max(errors["805"] + errors["845"]) <= 0.1 and max(errors["838"]) <= 2, errors


@pytest.fixture(scope="module")
def waltham_forest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    out = tmp_path_factory.mktemp("review")
    generate_census(out, [2019], scale=1.0, seed=SEED, las=["320"], workers=1)
    return reader.read_returns(reader.census_files(out, 2019), 2019, workers=1)


def test_open_cases_a_review_closes_as_not_in_need_leave_the_next_year_as_dfe_published(
    waltham_forest: dict[str, pl.DataFrame],
) -> None:
    """Waltham Forest 2019: DfE's episodes at any point are hundreds fewer than its children in need at 31
    March 2018 plus its 2019 episodes starting, more than its 2018 referrals still under assessment can
    account for (closed as not in need, they are no episodes of need in 2019). The rest are cases open at
    1 April 2018 and idle since, reassessed in 2019 and closed as not in need. Its 2019 episodes at any
    point and ending are then DfE's, its endings fall in its LAIT CINCease bands, and the return is valid."""
    from cin_assets.validation import validate

    published = {
        c: reference.published_la_value(c, y).filter(pl.col("old_la_code") == "320")["value"].item()
        for c, y in (("At31_episodes", 2018), ("Started_episodes", 2019), ("Anypoint_episodes", 2019))
    }
    assert published["At31_episodes"] + published["Started_episodes"] - published["Anypoint_episodes"] > 600
    b1 = _against_real(waltham_forest, 2019, "B1").filter(
        pl.col("column").is_in(["Anypoint_episodes", "Ended_episodes", "Started_episodes", "At31_episodes"])
    )
    assert b1.height == 4 and b1["exact"].all(), b1
    # every band within 3 points (without the reviews: 2 years or more 22.3% against 8.4, 1-2 years 16.5
    # against 10.4), the 2 years or more to DfE's rounding
    b5 = _against_real(waltham_forest, 2019, "B5").filter(pl.col("column").str.starts_with("LAIT:CINCease"))
    assert b5.height == 5 and (b5["ours"] - b5["real"]).abs().max() < 3, b5
    assert b5.filter(pl.col("column") == "LAIT:CINCease2more")["exact"].item(), b5
    start = calendar.census_period(2019)[0]
    ep = waltham_forest["episodes"]
    assessed = waltham_forest["assessments"].filter(pl.col("AssessmentActualStartDate") >= start)
    reviewed = ep.filter(
        (pl.col("CINreferralDate") < start - dt.timedelta(days=365)) & (pl.col("ReasonForClosure") == "RC8")
    ).join(assessed, on=["LAchildID", "episode_id"], how="semi")
    assert reviewed.height > 100
    assert validate(waltham_forest, 2019).filter(pl.col("type") == "error").is_empty()


@pytest.fixture(scope="module")
def manchester(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, pl.DataFrame]]:
    out = tmp_path_factory.mktemp("appearing")
    generate_census(out, [2018, 2019], scale=1.0, seed=SEED, las=["352"], workers=1)
    return {y: reader.read_returns(reader.census_files(out, y), y, workers=1) for y in (2018, 2019)}


def test_cases_a_return_left_out_appear_in_the_next_as_dfe_published(
    manchester: dict[int, dict[str, pl.DataFrame]],
) -> None:
    """Manchester 2019: DfE's cases open 2 years or more at 31 March 2019 (B4) and ending after 2 years or
    more (B5) outnumber its cases open a year or more at 31 March 2018, so some 2019 cases were in no 2018
    return (an earlier return left them out). Such cases appear in the 2019 return only: its episodes at
    any point and ending are then DfE's, its endings fall in its LAIT CINCease bands (without them, 2 years
    or more was 1.3% against 8.3; now within a point, as the cases the controls cannot take across the 2
    year boundary vary with the seed), and both returns are valid."""
    from cin_assets.validation import validate

    start = calendar.census_period(2019)[0]
    for year, tables in manchester.items():
        assert validate(tables, year).filter(pl.col("type") == "error").is_empty()
    ep = manchester[2019]["episodes"]
    earlier = set(manchester[2018]["episodes"]["LAchildID"].to_list())
    old = ep.filter(pl.col("CINreferralDate") < start - dt.timedelta(days=731))
    appeared = old.filter(~pl.col("LAchildID").is_in(earlier))
    # DfE's figures imply at least 207; the generator's 2018 return also holds fewer cases open a year or
    # more than DfE's (its swaps of open cases between B4 bands run short), and these make up the rest
    assert 207 <= appeared.height < old.height / 2, (appeared.height, old.height)
    b1 = _against_real(manchester[2019], 2019, "B1").filter(
        pl.col("column").is_in(["Anypoint_episodes", "Ended_episodes", "Started_episodes", "At31_episodes"])
    )
    assert b1.height == 4 and b1["exact"].all(), b1
    b5 = _against_real(manchester[2019], 2019, "B5").filter(pl.col("column").str.starts_with("LAIT:CINCease"))
    assert b5.height == 5 and (b5["ours"] - b5["real"]).abs().max() < 1, b5


def test_referral_sources_are_the_published_shares(tables: dict) -> None:
    """Each LA's referrals from the police, schools and health services are its LAIT percentages."""
    for year in YEARS:
        figures = _against_real(tables[year], year, "C5")
        assert figures.height >= 12 and figures["exact"].all(), figures.filter(~pl.col("exact"))


def test_assessment_lengths_follow_the_las_lait_share(tables: dict) -> None:
    """East Sussex completes far fewer assessments within 45 working days (LAIT: 57.9% in 2019, 61.0% in
    2020) than England (83.8%): its generated assessments follow its own share (3,000 a year: within 3
    points)."""
    for year in YEARS:
        figures = _against_real(tables[year], year, "C2").filter(pl.col("old_la_code") == "845")
        (real, ours) = figures.select("real", "ours").row(0)
        assert real < 62 and ours == pytest.approx(real, abs=3)


def test_factor_counts_are_the_published_ones(tables: dict) -> None:
    """Each LA's C3 count of episodes with a factor is its published one (factors are drawn per episode,
    and an episode's other assessments repeat them), and so is its count of episodes with any factor in
    2020. In 2019 three of these LAs have fewer assessments that can record "no factors" alone than DfE's
    count implies, so more of their episodes show a factor; never fewer. "Other" too is exact: it is the
    filler for an assessed episode no drawn factor reaches, and each such episode first takes one of what
    the factors' counts leave."""
    for year in YEARS:
        figures = _against_real(tables[year], year, "C3").filter(pl.col("unit") == "count")
        base = pl.col("column") == "Episodes_with_assessment_factor"
        assert figures.filter(~base).height >= 60
        exact = figures.filter(~base)
        assert exact.filter(~pl.col("exact")).is_empty(), exact.filter(~pl.col("exact"))
        assert figures.filter(base)["error"].min() >= 0
        if year == 2020:
            assert figures.filter(base)["exact"].all()


def test_reader_finds_no_problems(tables: dict) -> None:
    for year in YEARS:
        t = tables[year]
        assert t["issues"].is_empty()
        h = t["headers"]
        assert (h["Year"] == year).all() and (h["ReferenceDate"] == dt.date(year, 3, 31)).all()
        assert (h["LEA"] == h["la_code"]).all() and h["has_content_block"].all()
        assert (h["DateTime"] > f"{year}-03-31T23:59:59").all()


def test_validation_finds_no_errors(tables: dict) -> None:
    from cin_assets.validation import validate

    for year in YEARS:
        report = validate(tables[year], year)
        assert report.filter(pl.col("type") == "error").is_empty(), report.filter(pl.col("type") == "error")
        assert report.filter(pl.col("rule").is_in(["2886Q", "2887Q", "2888Q"])).is_empty()
        # Child-level queries are allowed in real returns. The generator raises two as real returns do:
        # 8899Q (DfE's published 5A/6A counts are below the assessments of disabled children) and 8825Q
        # (episodes of need closed RC8 with no assessment in the year: B6's RC8); it avoids the others.
        expected = ["8899Q", "8825Q"]
        assert (
            report.filter(~pl.col("rule").is_in(expected)).height <= 0.001 * tables[year]["children"].height
        )
        assert report.filter(pl.col("rule") == "8899Q").height > 0


def test_b6_rc8_counts_the_episodes_of_need_closed_rc8_that_raise_8825q(tables: dict) -> None:
    """England 2020 B6: 2,490 of 371,070 episodes ending (0.7%; 1.2% in the North East) closed RC8 with no
    assessment in the return; referrals closed RC8 after an assessment are assessed not in need and not in B6."""
    from cin_assets.validation import validate

    b6 = build(DATASETS["B6"], 2020, tables[2020], tables[2019])
    rc8 = cell(b6, "RC8_Case_closed_after_assessment")
    assert isinstance(rc8, int)
    # each LA's share (England's 0.67% scaled by its region's) is allocated per reporting year: only
    # rounding separates them
    expected = 0.0
    for la in tables[2020]["headers"]["la_code"].to_list():
        ended = cell(b6, "Ended_episodes", la)
        assert isinstance(ended, int)
        expected += 0.00671 * calibration.closure_ratio("RC8")[calibration.la_region(la)] * ended
    assert rc8 == pytest.approx(expected, abs=len(LAS))
    assert sum(cell(b6, f"RC{i}_" + n) for i, n in [(2, "Died"), (6, "Transferred_to_adult_social_care")]) > 0
    queries = validate(tables[2020], 2020).filter(pl.col("rule") == "8825Q")
    assert queries.height == rc8
    c1 = build(DATASETS["C1"], 2020, tables[2020], tables[2019])
    assert cell(c1, "Not_in_Need") > 10 * rc8  # RC8 after an assessment: not in need, not in B6


def test_children_keep_their_identity_across_years(tables: dict) -> None:
    cols = ["la_code", "LAchildID", "PersonBirthDate", "Ethnicity", "UPN"]
    before = tables[2019]["children"].filter(pl.col("PersonBirthDate").is_not_null())
    after = tables[2020]["children"].filter(pl.col("PersonBirthDate").is_not_null())
    both = before.select(cols).join(after.select(cols), on=["la_code", "LAchildID"], suffix="_next")
    assert both.height > 1000
    for c in cols[2:4]:
        assert (both[c] == both[f"{c}_next"]).all(), c
    upn = both.drop_nulls(["UPN", "UPN_next"])
    assert (upn["UPN"] == upn["UPN_next"]).all()


def test_open_episodes_carry_over_to_next_year(tables: dict) -> None:
    key = ["la_code", "LAchildID", "CINreferralDate"]
    open_2019 = tables[2019]["episodes"].filter(pl.col("CINclosureDate").is_null())
    carried = open_2019.select(key).join(tables[2020]["episodes"].select(key), on=key, how="anti")
    assert open_2019.height > 1000 and carried.is_empty()
    # and nothing in 2020 starting before 1 April 2019 is missing from 2019, but for the cases DfE's figures
    # say a return left out: City of London's 2020 cases open 2 years or more (at 31 March, or ending)
    # are 2 more than its 2019 cases open a year or more
    old = tables[2020]["episodes"].filter(pl.col("CINreferralDate") < dt.date(2019, 4, 1))
    old = old.filter(pl.col("la_code") != "838")  # Dorset made no 2019 return
    missing = old.select(key).join(tables[2019]["episodes"].select(key), on=key, how="anti")
    assert missing["la_code"].to_list() == ["201", "201"], missing
    assert (missing["CINreferralDate"] < dt.date(2017, 4, 1)).all(), missing


def test_the_history_has_every_kind_of_case(tables: dict) -> None:
    t = tables[2020]
    ep, ch = t["episodes"], t["children"]
    reasons = set(ep["ReasonForClosure"].drop_nulls())
    assert {"RC2", "RC6", "RC7", "RC8"} <= reasons
    assert ep["ReferralNFA"].sum() > 0
    assert ch["ExpectedPersonBirthDate"].is_not_null().sum() > 0
    assert (ch.filter(pl.col("ExpectedPersonBirthDate").is_not_null())["GenderCurrent"] == "0").all()
    assert ch["PersonDeathDate"].is_not_null().sum() > 0
    assert t["cpp_reviews"].height > 0 and t["assessment_factors"].height > 0
    rereferred = (
        ep.filter(pl.col("CINreferralDate") >= dt.date(2019, 4, 1)).group_by("la_code", "LAchildID").len()
    )
    assert (rereferred["len"] > 1).sum() > 0


def test_category_mixes_are_realistic(tables: dict) -> None:
    t = tables[2020]
    ep = t["episodes"].filter(pl.col("CINreferralDate") >= dt.date(2019, 4, 1))
    share = lambda frame, cond: frame.select(cond.fill_null(False).mean()).item()  # noqa: E731
    # police and schools: each LA's own LAIT share that year
    for la in ("805", "845"):
        codes, probs = calibration.la_referral_sources(la)[2020]
        mix = dict(zip(codes, probs, strict=True))
        own = ep.filter(pl.col("la_code") == la)
        assert share(own, pl.col("ReferralSource") == "6") == pytest.approx(mix["6"], abs=0.03)
        assert share(own, pl.col("ReferralSource") == "2A") == pytest.approx(mix["2A"], abs=0.03)
    born = t["children"].filter(pl.col("GenderCurrent").is_in(["1", "2"]))
    assert share(born, pl.col("GenderCurrent") == "1") == pytest.approx(0.548, abs=0.04)
    cpp = t["cpps"]
    assert share(cpp, pl.col("InitialCategoryOfAbuse") == "NEG") == pytest.approx(0.505, abs=0.08)
    # S47 to conference: most within 15 working days (C4 bands of these LAs)
    s47 = (
        t["section47"]
        .drop_nulls("DateOfInitialCPC")
        .with_columns(wd=calendar.working_days(pl.col("S47ActualStartDate"), pl.col("DateOfInitialCPC")))
    )
    assert 8 <= s47["wd"].median() <= 17
    # NFA and re-referral shares near East Sussex's published 2020 values
    la = calibration.published_targets().filter((pl.col("la_code") == "845") & (pl.col("year") == 2020))
    es = ep.filter(pl.col("la_code") == "845")
    assert share(es, pl.col("ReferralNFA")) == pytest.approx(la["nfa"].item(), abs=0.03)
    assert share(es, pl.col("ReasonForClosure") == "RC8") == pytest.approx(la["nin"].item(), abs=0.08)


def test_same_seed_gives_identical_files_whatever_the_workers(tmp_path: Path, census_dir: Path) -> None:
    generate_census(tmp_path / "a", [2020], scale=1.0, seed=SEED, las=["201", "420"], workers=1)
    generate_census(tmp_path / "b", [2020], scale=1.0, seed=SEED, las=["420", "201"], workers=2)
    for la in ("201", "420"):
        a = (tmp_path / "a" / "2020" / f"{la}.xml").read_bytes()
        assert a == (tmp_path / "b" / "2020" / f"{la}.xml").read_bytes()
        assert a == (census_dir / "2020" / f"{la}.xml").read_bytes()  # independent of the years asked for
    generate_census(tmp_path / "c", [2020], scale=1.0, seed=SEED + 1, las=["201"], workers=1)
    assert (tmp_path / "c" / "2020" / "201.xml").read_bytes() != (
        tmp_path / "a" / "2020" / "201.xml"
    ).read_bytes()


def test_small_scale_rounds_each_published_value(tmp_path: Path) -> None:
    from cin_assets.census import reader

    las = ["330", "845", "201"]
    generate_census(tmp_path, [2020], scale=0.05, seed=3, las=las, workers=2)
    got = counts(reader.read_returns(reader.census_files(tmp_path, 2020), 2020), 2020)
    targets = calibration.published_targets().filter(pl.col("year") == 2020)
    for name in calibration.COUNTS:
        target = dict(targets.select("la_code", name).iter_rows())
        for la, value in got.select("la_code", name).iter_rows():
            expected = calibration.scale_count(target[la], 0.05)
            if name == "Referrals":
                expected = max(expected, 1)  # every LA-year gets a referral: no empty return
            assert value == expected, (la, name)


@pytest.mark.parametrize("scale", [0.001, 0.02])
def test_the_smallest_la_never_makes_an_empty_return(tmp_path: Path, scale: float) -> None:
    """The Isles of Scilly (420): at small scale its open case used to have no referral to come from, the
    return had no child and ``no_validation_errors`` was red every year."""
    from cin_assets.census import reader
    from cin_assets.validation import validate

    years = list(calendar.REPORTING_YEARS)
    stats = generate_census(tmp_path, years, scale=scale, seed=1, las=["420"], workers=1)
    assert all(r.children >= 1 for la in stats for r in la.returns)
    for year in years:
        tables = reader.read_returns(reader.census_files(tmp_path, year), year)
        assert tables["children"].height >= 1
        errors = validate(tables, year).filter(pl.col("type") == "error")
        assert errors.is_empty(), (year, errors.select("rule", "message").rows())


def test_unknown_la_or_year_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no return"):
        generate_census(tmp_path, [2020], las=["999"])
    with pytest.raises(ValueError, match="outside"):
        generate_census(tmp_path, [2027])


def test_each_las_plans_ending_by_length_follow_its_regions_published_shares(tables: dict) -> None:
    """D7 (plans ending in the year by length) is published for England and four regions only (EES 2020).
    Per LA and year, as the pipeline publishes them, the plans ending after less than 2 years fall in the
    bands as its region's shares say (Hartlepool: the North East's; the others: what England's leave
    after the four regions), to largest remainders. Not City of London and the Isles of Scilly: their 0 to
    12 plans ending a year may have no plan whose anniversary falls where a band needs one. The drawn
    lengths alone put these LAs up to 5 points off."""
    checked = 0
    for year in YEARS:
        frame = build(DATASETS["D7"], year, tables[year], tables.get(year - 1))
        for la in sorted(set(tables[year]["headers"]["la_code"].to_list())):
            got = [cell(frame, column, la) for column in calibration.PLAN_LENGTHS]
            want = calibration.largest_remainder(sum(got), list(calibration.plan_length_shares(la)))
            if sum(got) > 20:
                assert got == want, (year, la, got, want)
                checked += 1
    assert checked == 5
