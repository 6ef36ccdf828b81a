"""The engine on small tables built with ``tables.conform``: thresholds at their exact boundaries, year
parameters, join keys, determinism, and the vectorised UPN check letter against the scalar one."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cin_assets.census import tables
from cin_assets.census.codes import CHECK_LETTERS, check_letter
from cin_assets.validation import REPORT_SCHEMA, validate
from cin_assets.validation.rule import Census
from cin_assets.validation.rules import BY_CODE

D = dt.date.fromisoformat


def frames(year: int = 2020, la: str = "845", **rows: list[dict]) -> dict[str, pl.DataFrame]:
    """Tables for one return: ``rows`` per table; keys default to this year and LA, lines are numbered."""
    out = {}
    for name in tables.TABLES:
        data = [
            {"reporting_year": year, "la_code": la, "line": i + 1, **r}
            for i, r in enumerate(rows.get(name, []))
        ]
        out[name] = tables.conform(name, pl.DataFrame(data)) if data else tables.empty(name)
    return out


def rules_for(report: pl.DataFrame, code: str) -> pl.DataFrame:
    return report.filter(pl.col("rule") == code)


def failing(code: str, year: int = 2020, **rows: list[dict]) -> set[str | None]:
    """Children failing rule ``code`` (the rule run on its own)."""
    report = validate(frames(year, **rows), year, rules=[BY_CODE[code]])
    return set(rules_for(report, code)["LAchildID"])


def test_census_dates_for_2019_20() -> None:
    c = Census.for_year(2020)
    assert (c.start, c.reference_date) == (D("2019-04-01"), D("2020-03-31"))
    assert c.day_before_start == D("2019-03-29")  # 1 April 2019 is a Monday
    assert c.assessment_overdue == D("2020-01-28")  # 45 working days, none of them a bank holiday
    assert c.s47_overdue == D("2020-03-10")


def test_working_days_skip_bank_holidays() -> None:
    # 2015-16: Good Friday (25 March 2016) and Easter Monday fall in the last fortnight of the year
    c = Census.for_year(2016)
    assert c.s47_overdue == D("2016-03-08")  # 17 weekdays before Thursday 31 March
    assert c.assessment_overdue == D("2016-01-26")
    # 2018-19 starts on Sunday 1 April 2018; Good Friday and Easter Monday 2018 surround it
    assert Census.for_year(2019).day_before_start == D("2018-03-29")


@pytest.mark.parametrize(("referral", "fails"), [("2019-03-28", True), ("2019-03-29", False)])
def test_8569_boundary_one_working_day_before_start(referral: str, fails: bool) -> None:
    episodes = [{"LAchildID": "A", "episode_id": 1, "CINreferralDate": D(referral), "ReferralNFA": True}]
    assert failing("8569Q", episodes=episodes) == ({"A"} if fails else set())


@pytest.mark.parametrize(("start", "fails"), [("2020-01-27", True), ("2020-01-28", False)])
def test_8670_boundary_45_working_days(start: str, fails: bool) -> None:
    rows = [{"LAchildID": "A", "episode_id": 1, "assessment_id": 1, "AssessmentActualStartDate": D(start)}]
    assert failing("8670Q", assessments=rows) == ({"A"} if fails else set())


@pytest.mark.parametrize(("start", "fails"), [("2020-03-09", True), ("2020-03-10", False)])
def test_8675_boundary_15_working_days(start: str, fails: bool) -> None:
    rows = [
        {
            "LAchildID": "A",
            "episode_id": 1,
            "s47_id": 1,
            "S47ActualStartDate": D(start),
            "ICPCnotRequired": False,
        }
    ]
    assert failing("8675Q", section47=rows) == ({"A"} if fails else set())


def test_8820_a_referral_on_the_previous_closure_day_is_not_an_overlap() -> None:
    def child(cid: str, second_referral: str) -> list[dict]:
        return [
            {"LAchildID": cid, "episode_id": 1, "CINreferralDate": D("2019-05-01"),
             "CINclosureDate": D("2019-06-01"), "ReferralNFA": False},
            {"LAchildID": cid, "episode_id": 2, "CINreferralDate": D(second_referral), "ReferralNFA": False},
        ]  # fmt: skip

    episodes = child("SAME_DAY", "2019-06-01") + child("INSIDE", "2019-05-31")
    assert failing("8820", episodes=episodes) == {"INSIDE"}


def test_2886_threshold_is_more_than_two_percent_of_all_children() -> None:
    def children(unknown: int) -> list[dict]:
        rows = [{"LAchildID": f"B{i}", "GenderCurrent": "0" if i < unknown else "1"} for i in range(50)]
        return [*rows, {"LAchildID": "U", "GenderCurrent": "0", "ExpectedPersonBirthDate": D("2020-05-01")}]

    def run(unknown: int) -> pl.DataFrame:
        return rules_for(
            validate(frames(children=children(unknown)), 2020, rules=[BY_CODE["2886Q"]]), "2886Q"
        )

    assert run(1).is_empty()
    assert run(2)["value"].to_list() == ["2 born children of 51 (3.9%)"]


def test_rules_follow_the_reporting_year() -> None:
    # a closure in 2019-20 is outside 2018-19's census year; LA code 838 only exists from April 2019
    episodes = [{"LAchildID": "A", "episode_id": 1, "CINreferralDate": D("2019-01-10"),
                 "CINclosureDate": D("2019-05-01"), "ReferralNFA": False}]  # fmt: skip
    assert failing("8620", 2020, episodes=episodes) == set()
    assert failing("8620", 2019, episodes=episodes) == {"A"}
    child = [{"LAchildID": "A", "UPN": check_letter("838123410001") + "838123410001"}]
    assert failing("1530", 2020, children=child) == set()
    assert failing("1530", 2019, children=child) == {"A"}


def test_joins_use_la_and_child_keys_not_positions() -> None:
    # the same LAchildID and episode_id in two LAs: LA 845's referral falls inside LA 846's episode, and LA
    # 846's assessment starts before LA 845's referral; neither is a finding, as they are different children
    episodes = [
        {"la_code": "846", "LAchildID": "A", "episode_id": 1, "CINreferralDate": D("2019-05-01"),
         "CINclosureDate": D("2019-09-01"), "ReferralNFA": False},
        {"la_code": "845", "LAchildID": "A", "episode_id": 1, "CINreferralDate": D("2019-06-01"),
         "ReferralNFA": False},
    ]  # fmt: skip
    assessments = [{"la_code": "846", "LAchildID": "A", "episode_id": 1, "assessment_id": 1,
                    "AssessmentActualStartDate": D("2019-05-10"), "AssessmentAuthorisationDate": D("2019-05-20")}]  # fmt: skip
    t = frames()
    t["episodes"] = tables.conform(
        "episodes", pl.DataFrame(episodes).with_columns(reporting_year=pl.lit(2020))
    )
    t["assessments"] = tables.conform(
        "assessments", pl.DataFrame(assessments).with_columns(reporting_year=pl.lit(2020))
    )
    report = validate(t, 2020, rules=[BY_CODE["8820"], BY_CODE["1103"]])
    assert report.filter(pl.col("category") == "rule").is_empty(), report
    # ... while the same rows in one LA are an overlap
    t["episodes"] = t["episodes"].with_columns(
        la_code=pl.lit("845"), episode_id=pl.Series([1, 2], dtype=pl.Int32)
    )
    assert set(validate(t, 2020, rules=[BY_CODE["8820"]])["rule"]) >= {"8820"}


def test_duplicate_child_ids_do_not_multiply_findings() -> None:
    children = [{"LAchildID": "A", "PersonBirthDate": D("2010-01-01")}] * 2
    episodes = [{"LAchildID": "A", "episode_id": 1, "CINreferralDate": D("2020-05-01"), "ReferralNFA": False}]
    report = validate(
        frames(children=children, episodes=episodes), 2020, rules=[BY_CODE["8600"], BY_CODE["8510"]]
    )
    assert sorted(report.filter(pl.col("category") == "rule")["rule"]) == ["8510", "8510", "8600"]


def test_report_is_deterministic_typed_and_sorted() -> None:
    episodes = [
        {"LAchildID": c, "episode_id": 1, "CINreferralDate": D("2020-05-01"), "ReferralNFA": None}
        for c in "CBA"
    ]
    first = validate(frames(episodes=episodes), 2020)
    assert first.schema == pl.Schema(REPORT_SCHEMA)
    assert first.equals(validate(frames(episodes=episodes), 2020))
    assert first.filter(pl.col("rule") == "8600")["LAchildID"].to_list() == [
        "C",
        "B",
        "A",
    ]  # file (line) order


def test_missing_and_invalid_flags_count_as_failing() -> None:
    # typed columns lose the missing/invalid distinction: both arrive as null and fail 8568
    episodes = [{"LAchildID": "A", "episode_id": 1, "CINreferralDate": D("2019-05-01"), "ReferralNFA": None}]
    assert failing("8568", episodes=episodes) == {"A"}


def test_only_supported_years() -> None:
    with pytest.raises(ValueError, match="2027"):
        validate(frames(), 2027)
    with pytest.raises(ValueError, match="2012"):
        validate(frames(), 2012)


def test_empty_tables_give_an_empty_report() -> None:
    assert validate({}, 2020).is_empty()


def _tails() -> st.SearchStrategy[str]:
    return st.builds(
        lambda digits, last: digits + last,
        st.text("0123456789", min_size=11, max_size=11),
        st.sampled_from([*"0123456789", *CHECK_LETTERS]),
    )


@settings(max_examples=60, deadline=None)
@given(tails=st.lists(_tails(), min_size=1, max_size=30))
def test_vectorised_check_letter_matches_scalar(tails: list[str]) -> None:
    good = [check_letter(t) + t for t in tails]
    bad = [CHECK_LETTERS[(CHECK_LETTERS.index(check_letter(t)) + 1) % 23] + t for t in tails]
    children = [{"LAchildID": f"G{i}", "UPN": u} for i, u in enumerate(good)]
    children += [{"LAchildID": f"B{i}", "UPN": u} for i, u in enumerate(bad)]
    assert failing("1510", children=children) == {f"B{i}" for i in range(len(bad))}


def test_known_upn_check_letter() -> None:
    # weights 2..13 over "801200001001": 8*2 + 1*4 + 2*5 + 1*11 + 1*13 = 54 - ... = 53; 53 mod 23 = 7 -> "H"
    assert sum(int(c) * w for c, w in zip("801200001001", range(2, 14), strict=True)) == 53
    assert check_letter("801200001001") == "H"
