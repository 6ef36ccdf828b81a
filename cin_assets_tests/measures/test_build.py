"""Each counting definition on small hand-built censuses whose expected counts are known exactly."""

from __future__ import annotations

import polars as pl
import pytest

from cin_assets import reference
from cin_assets.datasets.catalogue import DATASETS
from cin_assets.measures import build, requirements
from cin_assets_tests.measures.census_builder import Census, D, value

DARLINGTON, DURHAM, CAMDEN, GREENWICH = "841", "840", "202", "203"
NORTH_EAST, INNER, OUTER, LONDON, ENGLAND = "E12000001", "E13000001", "E13000002", "E12000007", "E92000001"


def _build(code: str, census: Census, previous: Census | None = None) -> pl.DataFrame:
    return build(DATASETS[code], census.year, census.tables(), previous.tables() if previous else None)


@pytest.fixture(scope="module")
def episodes() -> Census:
    c = Census(2020)
    c.episode(DARLINGTON, "first_day", D(2019, 4, 1))  # referred on the first day, still open
    c.episode(
        DARLINGTON, "closed_31_march", D(2019, 3, 31), D(2020, 3, 31)
    )  # open at start, closes on 31 March
    c.episode(DARLINGTON, "closes_after", D(2018, 6, 1), D(2020, 4, 1))  # closure after 31 March: open
    c.episode(DARLINGTON, "closed_before", D(2018, 1, 1), D(2019, 3, 31))  # closed the day before the year
    c.episode(DARLINGTON, "nfa", D(2019, 10, 1), D(2019, 10, 1), reason="RC8", nfa=True)
    nin = c.episode(DARLINGTON, "not_in_need", D(2019, 11, 1), D(2019, 12, 1), reason="RC8")
    c.assessment(DARLINGTON, "not_in_need", nin, D(2019, 11, 4), D(2019, 12, 1), factors=["21"])
    c.episode(CAMDEN, "twice", D(2019, 5, 1), D(2019, 6, 1), reason="RC7")  # two referrals in the year
    c.episode(CAMDEN, "twice", D(2019, 8, 1))
    c.child(CAMDEN, "unborn", dob=None, expected=D(2020, 6, 1), gender="0", ethnicity="NOBT")
    c.episode(CAMDEN, "unborn", D(2020, 2, 1))
    return c


def test_episode_counts_follow_the_reporting_year_boundaries(episodes: Census) -> None:
    b1 = _build("B1", episodes)
    expected = {
        # episodes of need (NFA and assessed-not-in-need referrals are not episodes of need)
        "Anypoint_episodes": {DARLINGTON: 3, CAMDEN: 3},
        "Anypoint_child": {DARLINGTON: 3, CAMDEN: 2},
        "Started_episodes": {DARLINGTON: 1, CAMDEN: 3},
        "Started_child": {DARLINGTON: 1, CAMDEN: 2},
        "Ended_episodes": {DARLINGTON: 1, CAMDEN: 1},
        "Ended_child": {DARLINGTON: 1, CAMDEN: 1},
        "At31_episodes": {DARLINGTON: 2, CAMDEN: 2},
    }
    for column, by_la in expected.items():
        for la, n in by_la.items():
            assert value(b1, column, la) == n, (column, la)
        assert value(b1, column, ENGLAND) == sum(by_la.values()), column
        assert value(b1, column, NORTH_EAST) == by_la[DARLINGTON]
        assert value(b1, column, INNER) == value(b1, column, LONDON) == by_la[CAMDEN]
        assert value(b1, column, OUTER) == 0
        assert value(b1, column, DURHAM) == 0


def test_referrals_count_every_referral_and_children_once(episodes: Census) -> None:
    c1 = _build("C1", episodes)
    assert value(c1, "Referrals", DARLINGTON) == 3  # first day, NFA, not in need (31 March 2019 is last year)
    assert value(c1, "No_Further_Action", DARLINGTON) == 1
    assert value(c1, "Not_in_Need", DARLINGTON) == 1
    assert value(c1, "Referrals", CAMDEN) == 3
    assert value(c1, "Referrals_child", CAMDEN) == 2
    assert value(c1, "No_Further_Action_percent", DARLINGTON) == pytest.approx(100 / 3)
    # no previous census given: re-referrals are not available anywhere
    assert value(c1, "Re_referrals", CAMDEN) is None
    assert value(c1, "Re_referrals", ENGLAND) is None
    assert value(c1, "Re_referrals_percent", ENGLAND) is None


def test_re_referrals_look_back_twelve_months_into_the_previous_census() -> None:
    previous = Census(2019)
    previous.episode(DARLINGTON, "within", D(2018, 12, 1), D(2019, 1, 15))
    previous.episode(DARLINGTON, "exactly_a_year", D(2018, 11, 30), D(2019, 1, 15))
    previous.episode(DARLINGTON, "over_a_year", D(2018, 11, 29), D(2019, 1, 15))
    current = Census(2020)
    for child in ("within", "exactly_a_year", "over_a_year"):
        current.episode(DARLINGTON, child, D(2019, 11, 30))
    current.episode(DARLINGTON, "same_year", D(2019, 4, 10), D(2019, 5, 1))
    current.episode(DARLINGTON, "same_year", D(2019, 9, 1))
    current.episode(DARLINGTON, "same_day", D(2019, 9, 1), D(2019, 9, 1), nfa=True)
    current.episode(DARLINGTON, "same_day", D(2019, 9, 1))
    current.episode(CAMDEN, "no_history", D(2019, 6, 1))  # Camden has no previous census here
    c1 = _build("C1", current, previous)
    # within 12 months: 1 Dec 2018 and 30 Nov 2018 (exactly a year); the later same-year referral
    assert value(c1, "Re_referrals", DARLINGTON) == 3
    assert value(c1, "Re_referrals_child", DARLINGTON) == 3
    assert value(c1, "Referrals", DARLINGTON) == 7
    assert value(c1, "Re_referrals_percent", DARLINGTON) == pytest.approx(300 / 7)
    assert value(c1, "Re_referrals", CAMDEN) is None
    assert value(c1, "Re_referrals", INNER) is None
    assert value(c1, "Re_referrals", ENGLAND) == 3  # the sum over the LAs that can report it
    assert requirements(DATASETS["C1"]).previous == ("episodes",)


def test_england_re_referral_percentages_divide_the_looked_back_count_by_every_referral() -> None:
    """DfE's rule (every release 2013-2025): Camden is counted but has no previous return to look back on
    (new, or declared), so England's re-referral count leaves it out while England's referrals hold
    Camden's, and the percentage is that count over those referrals (understated, as DfE's), in C1 and
    where A1 republishes it. London holds no LA looked back on: nothing to count there."""
    from cin_assets.measures import build_all

    previous = Census(2019)
    previous.episode(DARLINGTON, "again", D(2018, 12, 1), D(2019, 1, 15))
    current = Census(2020)
    current.episode(DARLINGTON, "again", D(2019, 11, 30))
    current.episode(DARLINGTON, "first", D(2019, 6, 1))
    current.episode(CAMDEN, "camden", D(2019, 6, 1))
    sets = {code: DATASETS[code] for code in ("C1", "A1")}
    built = build_all(sets, 2020, current.tables(), previous.tables())
    c1, a1 = built["C1"], built["A1"]
    assert value(c1, "Re_referrals", ENGLAND) == 1 and value(c1, "Referrals", ENGLAND) == 3
    assert value(c1, "Re_referrals_percent", ENGLAND) == pytest.approx(100 / 3)
    assert value(c1, "Re_referrals_child_percent", ENGLAND) == pytest.approx(100 / 3)
    for geo in (LONDON, INNER):
        assert value(c1, "Re_referrals", geo) is None and value(c1, "Re_referrals_percent", geo) is None, geo
    assert value(c1, "Re_referrals_percent", NORTH_EAST) == pytest.approx(50)
    assert value(c1, "Re_referrals_percent", DARLINGTON) == pytest.approx(50)
    assert value(c1, "Re_referrals_percent", CAMDEN) is None
    rows = a1.filter(pl.col("category_type").str.starts_with("Re-referrals"))
    assert rows.height == 1
    percent = next(i.name for i in DATASETS["A1"].indicators if i.unit == "percent")
    assert rows[percent].item() == pytest.approx(100 / 3)


def test_unborn_children_are_a_row_of_their_own(episodes: Census) -> None:
    a4 = _build("A4", episodes)
    cin = {"characteristic": "Total"}
    assert value(a4, "CIN_At31", **cin) == 4
    assert value(a4, "CIN_At31", characteristic="Unborn") == 1
    assert value(a4, "CIN_At31", characteristic="Male") == 3
    assert value(a4, "CIN_At31", characteristic="Female") == 0
    assert value(a4, "CIN_At31", characteristic="5 to 9") == 3  # born 1 June 2010: 9 at 31 March 2020
    assert value(a4, "Ethnicity_White", **cin) == 3
    assert value(a4, "Ethnicity_Not_known", **cin) == 1
    assert value(a4, "Ethnicity_Known", characteristic="Unborn") == 0
    assert a4.filter(pl.col("characteristic") == "Unborn")["characteristic_type"].to_list() == ["Unborn"]


def test_awaiting_assessment_is_judged_on_episodes_starting_in_the_year() -> None:
    c = Census(2020)
    c.episode(DARLINGTON, "waiting", D(2020, 3, 2))
    done = c.episode(DARLINGTON, "assessed", D(2020, 1, 6))
    c.assessment(DARLINGTON, "assessed", done, D(2020, 1, 6), D(2020, 2, 3))
    under_way = c.episode(DARLINGTON, "under_way", D(2020, 1, 6))
    c.assessment(DARLINGTON, "under_way", under_way, D(2020, 1, 6), None)
    starts_later = c.episode(DARLINGTON, "starts_after_31_march", D(2020, 3, 20))
    c.assessment(DARLINGTON, "starts_after_31_march", starts_later, D(2020, 4, 1), None)
    c.episode(DARLINGTON, "long_running", D(2015, 1, 1))
    b1 = _build("B1", c)
    assert value(b1, "At31_episodes", DARLINGTON) == 5
    assert value(b1, "Awaiting_assessment", DARLINGTON) == 2  # waiting, starts_after_31_march


@pytest.fixture(scope="module")
def plans() -> Census:
    c = Census(2020)
    e = c.episode(DARLINGTON, "p1", D(2019, 5, 1))
    c.cpp(DARLINGTON, "p1", e, D(2019, 6, 3), reviews=[D(2019, 8, 30), D(2020, 2, 20)])  # no end date
    e = c.episode(DARLINGTON, "p2", D(2017, 12, 1))
    c.cpp(DARLINGTON, "p2", e, D(2018, 1, 10), D(2019, 5, 1), initial="PHY", latest="EMO")  # ends in year
    e = c.episode(DARLINGTON, "p3", D(2020, 3, 1))
    c.cpp(DARLINGTON, "p3", e, D(2020, 3, 31), initial="SAB", previous=1)  # starts on 31 March
    e = c.episode(DARLINGTON, "p4", D(2018, 12, 1), D(2020, 3, 31))
    c.cpp(DARLINGTON, "p4", e, D(2019, 2, 1), D(2020, 3, 31), initial="EMO")  # ends on 31 March
    e = c.episode(DURHAM, "p5", D(2017, 1, 1))
    c.cpp(DURHAM, "p5", e, D(2017, 3, 1), initial="MUL", reviews=[D(2019, 5, 1), D(2019, 12, 15)])
    e = c.episode(DURHAM, "p6", D(2019, 1, 1), D(2019, 7, 1))
    c.cpp(DURHAM, "p6", e, D(2019, 2, 1), D(2019, 7, 1))
    e = c.episode(DURHAM, "p7", D(2019, 1, 1), D(2019, 10, 1))
    c.cpp(DURHAM, "p7", e, D(2019, 2, 1), D(2019, 5, 10))
    c.cpp(DURHAM, "p7", e, D(2019, 6, 3), D(2019, 9, 2))  # a second plan for the same child in the year
    return c


def test_plan_counts_including_plans_with_no_end_date(plans: Census) -> None:
    d1 = _build("D1", plans)
    assert value(d1, "CPP_start", DARLINGTON) == 2  # p1, p3
    assert value(d1, "CPP_end", DARLINGTON) == 2  # p2, p4 (ends on 31 March)
    assert value(d1, "CPP_At31", DARLINGTON) == 2  # p1, p3 (no end date)
    assert value(d1, "CPP_anypoint", DARLINGTON) == 4
    assert value(d1, "CPP_At31", DURHAM) == 1  # p5
    assert value(d1, "CPP_start", DURHAM) == 1
    assert value(d1, "CPP_child_start", DURHAM) == 1
    assert value(d1, "CPP_end", DURHAM) == 3
    assert value(d1, "CPP_child_end", DURHAM) == 2
    assert value(d1, "CPP_At31", NORTH_EAST) == 3
    pop = reference.populations(2020).filter(pl.col("old_la_code") == DARLINGTON)["population_0_17"].item()
    assert value(d1, "CPP_At31_rate", DARLINGTON) == pytest.approx(2 * 10_000 / pop)

    d3 = _build("D3", plans)
    assert value(d3, "CPP_subsequent", DARLINGTON) == 1  # p3 (one previous plan)
    assert value(d3, "CPP_subsequent", DURHAM) == 1  # p7's second plan
    d5 = _build("D5", plans)
    assert value(d5, "more_than_6_months_less_than_1_year", DARLINGTON) == 1  # p1: 3 Jun 2019
    assert value(d5, "3_months_or_less", DARLINGTON) == 1  # p3
    assert value(d5, "2_years_or_more", DURHAM) == 1
    d7 = _build("D7", plans)
    assert value(d7, "1_2_years", DARLINGTON) == 2  # p2 1y3m, p4 1y2m
    assert value(d7, "3_months_or_less", DURHAM) == 1  # p7's second plan: 3 Jun to 2 Sep
    assert value(d7, "3_6_months", DURHAM) == 2  # p6: 1 Feb to 1 Jul; p7's first: 1 Feb to 10 May
    d4 = _build("D4", plans)
    assert value(d4, "Sexual_abuse_Initial", DARLINGTON) == 1
    assert value(d4, "Multiple_Initial", DURHAM) == 1
    d2 = _build("D2", plans)
    assert value(d2, "Neglect_Initial", DARLINGTON) == 1


def test_reviews_and_time_in_need_after_a_plan(plans: Census) -> None:
    d6 = _build("D6", plans)
    assert value(d6, "CPP_At31_3_months_or_more", DARLINGTON) == 1  # p1 (p3 started on 31 March)
    assert value(d6, "Reviewed_within_timescales", DARLINGTON) == 1
    assert value(d6, "CPP_At31_3_months_or_more", DURHAM) == 1  # p5
    assert value(d6, "Reviewed_within_timescales", DURHAM) == 0  # 7.5 months between reviews
    d8 = _build("D8", plans)
    assert value(d8, "CPP_end_first_6_months", DARLINGTON) == 1  # p2 ended 1 May; p4 ends in March
    assert value(d8, "CIN_more_than_6_months", DARLINGTON) == 1  # p2's episode is still open
    assert value(d8, "CPP_end_first_6_months", DURHAM) == 3
    assert value(d8, "CIN_ended_with_plan", DURHAM) == 1  # p6: episode closed the day the plan ended
    assert value(d8, "CIN_ended_3_to_6_months", DURHAM) == 1  # p7 first plan: 10 May -> 1 Oct
    assert value(d8, "CIN_ended_within_3_months", DURHAM) == 1  # p7 second plan: 2 Sep -> 1 Oct


def test_section47_and_conferences_counted_once() -> None:
    c = Census(2020)
    e = c.episode(GREENWICH, "a", D(2019, 6, 1), icpc=D(2019, 6, 24))  # the same ICPC at episode level too
    c.s47(GREENWICH, "a", e, D(2019, 6, 3), D(2019, 6, 24))  # Mon -> Mon three weeks later: 15 working days
    e = c.episode(GREENWICH, "b", D(2019, 3, 1))
    c.s47(GREENWICH, "b", e, D(2019, 3, 29), D(2019, 4, 3))  # enquiry last year, conference this year
    c.episode(GREENWICH, "c", D(2019, 8, 1), icpc=D(2019, 9, 10))  # conference without an enquiry
    e = c.episode(GREENWICH, "d", D(2019, 9, 1))
    c.s47(GREENWICH, "d", e, D(2019, 9, 2))  # enquiry with no conference
    c.s47(GREENWICH, "d", e, D(2019, 11, 4))
    c4 = _build("C4", c)
    assert value(c4, "Section47", GREENWICH) == 3
    assert value(c4, "Section47_child", GREENWICH) == 2
    assert value(c4, "ICPC", GREENWICH) == 3
    assert value(c4, "ICPC_child", GREENWICH) == 3
    assert value(c4, "ICPC_with_section47", GREENWICH) == 2
    assert value(c4, "Duration_0-10_days", GREENWICH) == 1  # b: Fri 29 Mar -> Wed 3 Apr = 3 working days
    assert value(c4, "Duration_11-15_days", GREENWICH) == 1
    assert value(c4, "Duration_median", GREENWICH) == pytest.approx(9.0)
    assert value(c4, "ICPC", OUTER) == value(c4, "ICPC", LONDON) == 3


def test_percentiles_come_from_the_unit_rows_of_each_geography() -> None:
    c = Census(2020)
    for n, days in enumerate((1, 2, 3)):
        e = c.episode(DARLINGTON, f"x{n}", D(2019, 9, 2))
        c.assessment(DARLINGTON, f"x{n}", e, D(2019, 9, 2), D(2019, 9, 2 + days))  # Mon + 1..3 working days
    e = c.episode(DURHAM, "y", D(2019, 9, 2))
    c.assessment(DURHAM, "y", e, D(2019, 9, 2), D(2019, 9, 16))  # 10 working days
    c2 = _build("C2", c)
    assert value(c2, "Median_days", DARLINGTON) == 2
    assert value(c2, "Median_days", DURHAM) == 10
    assert value(c2, "Median_days", NORTH_EAST) == pytest.approx(2.5)  # not the mean of LA medians (6)
    assert value(c2, "1-10_days", NORTH_EAST) == 4
    assert value(c2, "Median_days", CAMDEN) is None  # no assessments: not applicable
    assert DATASETS["C2"].indicator("Median_days").applies is not None


def test_factors_counted_once_per_episode_and_21_is_not_a_factor() -> None:
    c = Census(2020)
    e = c.episode(DARLINGTON, "a", D(2019, 5, 1))
    c.assessment(DARLINGTON, "a", e, D(2019, 5, 1), D(2019, 6, 1), factors=["3B", "4B"])
    c.assessment(DARLINGTON, "a", e, D(2019, 9, 1), D(2019, 10, 1), factors=["3B", "8D"])
    e = c.episode(DARLINGTON, "b", D(2019, 5, 1))
    c.assessment(DARLINGTON, "b", e, D(2019, 5, 1), D(2019, 6, 1), factors=["21"])
    e = c.episode(DARLINGTON, "c", D(2018, 5, 1))
    c.assessment(DARLINGTON, "c", e, D(2018, 5, 1), D(2019, 3, 1), factors=["3B"])  # completed last year
    c3 = _build("C3", c)
    assert value(c3, "Episodes_with_assessment_factor", DARLINGTON) == 1
    assert value(c3, "Domestic_Abuse_parent", DARLINGTON) == 1
    assert value(c3, "Mental_Health_parent", DARLINGTON) == 1
    assert value(c3, "Privately_fostered", DARLINGTON) == 1
    assert value(c3, "Neglect", DARLINGTON) == 0


def test_sources_reasons_needs_and_disability_columns(episodes: Census) -> None:
    c = Census(2020)
    c.episode(DARLINGTON, "school", D(2019, 5, 1), source="2A")
    c.episode(DARLINGTON, "gp", D(2019, 5, 1), source="3A")
    c.episode(DARLINGTON, "bad", D(2019, 5, 1), source="99")
    c.episode(DARLINGTON, "adopted", D(2018, 5, 1), D(2019, 5, 1), reason="RC1")
    c.episode(DARLINGTON, "odd", D(2018, 5, 1), D(2019, 5, 1), reason="RC9")
    c.child(DURHAM, "disabled", disabilities=["AUT", "LD"])
    c.episode(DURHAM, "disabled", D(2018, 5, 1), need=None)
    c.child(DURHAM, "none", disabilities=["NONE"])
    c.episode(DURHAM, "none", D(2018, 5, 1), need="N5")
    c5 = _build("C5", c)
    assert (value(c5, "Schools", DARLINGTON), value(c5, "Health_Services", DARLINGTON)) == (1, 1)
    assert value(c5, "Unknown", DARLINGTON) == 1
    b6 = _build("B6", c)
    assert value(b6, "RC1_Adopted", DARLINGTON) == 1
    # an invalid reason (RC9 is not a 2019-20 code; validation rejects it) is in no reason column
    reasons = [i.name for i in DATASETS["B6"].counts()][1:]
    assert sum(value(b6, r, DARLINGTON) for r in reasons) == 1
    assert value(b6, "Ended_episodes", DARLINGTON) == 2
    assert value(b6, "RC1_Adopted_percent", DARLINGTON) == 50
    b3 = _build("B3", c)
    assert value(b3, "N0_Not_stated", DURHAM) == 1
    assert value(b3, "N5_Family_dysfunction", DURHAM) == 1
    assert value(b3, "N0_Not_stated_percent", DURHAM) == 50
    b2 = _build("B2", c)
    assert value(b2, "At31_episodes_disability_recorded", DURHAM) == 1
    assert value(b2, "Autism", DURHAM) == 1
    assert value(b2, "Autism_percent", DURHAM) == 100
    assert value(b2, "Mobility_percent", DURHAM) == 0
    assert value(b2, "Autism_percent", DARLINGTON) is None  # no disabled children: percentage not applicable


def test_an_rc8_closure_with_no_assessment_in_the_return_is_an_episode_of_need_ending() -> None:
    """Only a case closed RC8 after an assessment in the year's return was assessed not in need (C1);
    one assessed in an earlier year (query 8825Q) stays an episode of need and counts under RC8 in B6."""
    c = Census(2020)
    assessed = c.episode(DARLINGTON, "assessed", D(2019, 6, 1), D(2019, 7, 1), reason="RC8")
    c.assessment(DARLINGTON, "assessed", assessed, D(2019, 6, 3), D(2019, 7, 1), factors=["21"])
    carried = c.episode(DARLINGTON, "carried", D(2019, 3, 20), D(2019, 4, 20), reason="RC8")
    c.assessment(DARLINGTON, "carried", carried, D(2019, 3, 21), D(2019, 4, 20), factors=["21"])
    c.episode(DARLINGTON, "earlier", D(2018, 5, 1), D(2019, 9, 1), reason="RC8")  # assessed in 2018-19
    c.episode(DARLINGTON, "ceased", D(2018, 5, 1), D(2019, 9, 1), reason="RC7")
    b6 = _build("B6", c)
    assert value(b6, "Ended_episodes", DARLINGTON) == 2
    assert value(b6, "RC8_Case_closed_after_assessment", DARLINGTON) == 1
    assert value(b6, "RC8_Case_closed_after_assessment_percent", DARLINGTON) == 50
    assert value(b6, "RC7_Services_ceased", DARLINGTON) == 1
    b1 = _build("B1", c)
    assert value(b1, "Ended_episodes", DARLINGTON) == value(b1, "Anypoint_episodes", DARLINGTON) == 2
    c1 = _build("C1", c)
    assert value(c1, "Not_in_Need", DARLINGTON) == 1  # the carried one was referred last year


def test_national_summaries_republish_england_figures(episodes: Census) -> None:
    frames = {code: _build(code, episodes) for code in ("B1", "C1", "C2")}
    a1 = build(DATASETS["A1"], 2020, sources=frames)
    row = {"category_type": "Children in Need at 31 March"}
    assert value(a1, "number", **row) == value(frames["B1"], "At31_episodes")
    assert value(a1, "rate", **row) == pytest.approx(value(frames["B1"], "At31_episodes_rate"))
    awaiting = {"category_type": "Children awaiting assessment or assessment not required at 31 March"}
    assert value(a1, "percent", **awaiting) == pytest.approx(100 * 3 / 4)
    assert value(a1, "number", category_type="Referrals in the year") == 6
    assert a1.height == len(DATASETS["A1"].summary)


def test_years_outside_a_data_set_give_empty_frames_and_the_population_file_is_labelled_by_mid_year() -> None:
    c = Census(2016)
    assert build(DATASETS["C3"], 2016, c.tables()).is_empty()
    assert build(DATASETS["H"], 2016, sources={}).is_empty()
    pop = build(DATASETS["P"], 2020)
    assert set(pop["time_period"]) == {"2019"}
    assert set(pop["time_identifier"]) == {"Calendar year"}
    assert (
        value(pop, "population_0_17")
        == reference.populations(2020)
        .filter(pl.col("geographic_level") == "National")["population_0_17"]
        .item()
    )


def test_every_geography_of_the_year_has_a_row() -> None:
    frame = _build("B1", Census(2020))
    las = reference.local_authorities(2020)
    assert frame.height == 1 + 11 + las.height
    assert frame["geographic_level"].value_counts().sort("geographic_level")["count"].to_list() == [
        151,
        1,
        11,
    ]
    assert frame.filter(pl.col("old_la_code") == "839")["region_code"].item() == "E12000009"  # BCP
    assert frame.filter(pl.col("old_la_code") == CAMDEN)["region_code"].item() == INNER
    assert (frame["At31_episodes"] == 0).all()
    assert frame.filter(pl.col("geographic_level") == "National")["region_code"].item() is None
    assert _build("B1", Census(2019)).height == 1 + 11 + 152


def test_duration_bands_of_open_and_ended_episodes(episodes: Census) -> None:
    b4 = _build("B4", episodes)
    assert value(b4, "more_than_6_months_less_than_1_year", DARLINGTON) == 1  # 1 Apr 2019: just under a year
    assert value(b4, "1_year_less_than_2_years", DARLINGTON) == 1  # 1 Jun 2018
    assert value(b4, "3_months_or_less", CAMDEN) == 1  # the unborn child, referred 1 Feb 2020
    assert value(b4, "3_months_or_less_percent", CAMDEN) == 50
    b5 = _build("B5", episodes)
    assert (
        value(b5, "1_year_less_than_2_years", DARLINGTON) == 1
    )  # 31 Mar 2019 to 31 Mar 2020: exactly a year
    assert value(b5, "3_months_or_less", CAMDEN) == 1


def test_plans_by_characteristics_and_the_national_summaries(plans: Census) -> None:
    a5 = _build("A5", plans)
    assert value(a5, "CPP_At31", characteristic="Total") == 3  # p1, p3, p5
    assert value(a5, "CPP_At31", characteristic="Male") == 3
    assert value(a5, "CPP_At31", characteristic="5 to 9") == 3
    assert value(a5, "CPP_At31", characteristic="White") == 3
    assert value(a5, "Sexual_Abuse_Initial", characteristic="Total") == 1
    assert value(a5, "Multiple_Initial", characteristic="White") == 1
    a6 = _build("A6", plans)
    assert (value(a6, "CPP_At31"), value(a6, "Neglect_Initial"), value(a6, "Multiple_Initial")) == (3, 1, 1)
    frames = {code: _build(code, plans) for code in ("C4", "D1", "D3")}
    a2 = build(DATASETS["A2"], 2020, sources=frames)
    assert value(a2, "number", category_type="CPP at 31 March") == 3
    subsequent = {"category_type": "CPPs starting in the year which were a second or subsequent plan"}
    assert value(a2, "number", **subsequent) == 2
    assert value(a2, "percent", **subsequent) == pytest.approx(100 * 2 / 3)
    assert value(a2, "number", category_type="CPPs ending in the year") == 5


def test_building_all_data_sets_together_equals_building_each_alone(tmp_path) -> None:
    """``build_all`` shares unit tables between data sets; on a synthetic census (two years, so the
    look-back is used) every frame equals the one built on its own."""
    from cin_assets.census.reader import census_files, read_returns
    from cin_assets.measures import build_all
    from cin_assets.synth import generate_census

    las = ["841", "202", "203", "909", "826"]
    generate_census(tmp_path, [2019, 2020], scale=0.2, seed=5, las=las, workers=1)
    tables = read_returns(census_files(tmp_path, 2020), year=2020, workers=1)
    previous = read_returns(census_files(tmp_path, 2019), year=2019, workers=1)
    together = build_all(DATASETS, 2020, tables, previous)
    alone: dict[str, pl.DataFrame] = {}
    for code in sorted(DATASETS, key=lambda c: bool(DATASETS[c].summary)):
        alone[code] = build(DATASETS[code], 2020, tables, previous, alone)
    assert together.keys() == alone.keys()
    for code, frame in alone.items():
        assert frame.height > 0, code
        assert together[code].equals(frame), code
    assert together["C1"].filter(pl.col("geographic_level") == "National")["Re_referrals"].item() > 0


def test_a_successor_declared_predecessors_counts_re_referrals_of_its_predecessors_children() -> None:
    """Cumberland (942) declared to look back on Cumbria's (909) 2023 return (la_successors.csv,
    ``predecessors``): the previous rows are joined under the successor's code (``looked_back_rows``), so a
    Cumbria child referred again in Cumberland within 12 months counts, matched by the child key; one
    referred more than 12 months before, or a Cumbria child with another LAchildID, does not."""
    from cin_assets.census import lookback
    from cin_assets.measures import build_all

    previous = Census(2023)
    previous.episode("909", "back", D(2022, 9, 1), D(2022, 10, 1))
    previous.episode("909", "long_ago", D(2022, 4, 1), D(2022, 5, 1))
    previous.episode("909", "stranger", D(2023, 1, 1), D(2023, 2, 1))
    current = Census(2024)
    current.episode("942", "back", D(2023, 6, 1))
    current.episode("942", "long_ago", D(2023, 6, 1))
    current.episode("942", "new", D(2023, 7, 1))
    expected = reference.local_authorities(2024).select(pl.col("old_la_code").alias("la_code"), "la_name")
    inventory = pl.DataFrame(
        {"la_code": ["909"], "la_name": ["Cumbria"], "files": ["909.xml"], "status": ["loaded"]}
    ).with_columns(reason=pl.lit(None, pl.String), declared=pl.lit(None, pl.String))
    declared = reference.successors(2024).with_columns(first_year_lookback=pl.lit(lookback.PREDECESSORS))
    looked = lookback.build(2024, expected.filter(pl.col("la_code") == "942"), inventory, declared)
    assert looked["lookback"].to_list() == [lookback.COUNTED]
    rows = lookback.looked_back_rows(previous.tables()["episodes"], looked)
    assert set(rows["la_code"]) == {"942"}
    c1 = build_all({"C1": DATASETS["C1"]}, 2024, current.tables(), {"episodes": rows})["C1"]
    assert value(c1, "Re_referrals", "942") == 1 and value(c1, "Referrals", "942") == 3
    assert value(c1, "Re_referrals_percent", "942") == pytest.approx(100 / 3)


def test_a_successor_counted_within_its_own_return_counts_children_referred_again_in_the_year() -> None:
    """Cumberland (942) in 2024, as DfE counted it (la_successors.csv, ``own_return``): a referral is a
    re-referral when the same child was referred earlier in the year; a referral within 12 months of one
    before the year, even one in its own return (a case carried over from Cumbria), is not. Its figures
    are available and enter England's; an LA looking back on its previous return still counts across it."""
    from cin_assets.measures import build_all

    previous = Census(2023)
    previous.episode(DARLINGTON, "back", D(2022, 9, 1), D(2022, 10, 1))
    current = Census(2024)
    current.episode("942", "twice", D(2023, 6, 1), D(2023, 7, 1))
    current.episode("942", "twice", D(2023, 9, 1))
    current.episode("942", "carried", D(2023, 2, 1), D(2023, 5, 1))  # open at 1 April, closed
    current.episode("942", "carried", D(2023, 8, 1))  # within 12 months of its February referral
    current.episode("942", "new", D(2023, 7, 1))
    current.episode(DARLINGTON, "back", D(2023, 6, 1))
    tables = current.tables()
    c1 = build_all({"C1": DATASETS["C1"]}, 2024, tables, previous.tables(), own_return=["942"])["C1"]
    assert value(c1, "Referrals", "942") == 4 and value(c1, "Re_referrals", "942") == 1
    assert value(c1, "Re_referrals_child", "942") == 1
    assert value(c1, "Re_referrals_percent", "942") == pytest.approx(25.0)
    assert value(c1, "Re_referrals", DARLINGTON) == 1
    assert value(c1, "Re_referrals", ENGLAND) == 2
    # not declared: no look-back, so not available (DfE's x for Dorset and BCP)
    plain = build_all({"C1": DATASETS["C1"]}, 2024, tables, previous.tables())["C1"]
    assert value(plain, "Re_referrals", "942") is None
    # nor when no LA at all is looked back on
    alone = build_all({"C1": DATASETS["C1"]}, 2024, tables, None, own_return=["942"])["C1"]
    assert value(alone, "Re_referrals", "942") == 1 and value(alone, "Re_referrals", DARLINGTON) is None
