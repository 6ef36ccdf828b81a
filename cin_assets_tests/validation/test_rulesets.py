"""Each collection year's format and rules, on small generated returns for 2021-2026.

The generator writes each year's format; the reader and the year's rule set must accept it (no error), the
year-specific elements must be there, and the same return validated as another year must say which of its
elements do not belong to that year.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cin_assets.census.reader import read_return, read_returns
from cin_assets.synth.generate import generate_census
from cin_assets.validation import validate
from cin_assets.validation.rulesets import OVERLAYS, ruleset

YEARS = (2021, 2022, 2023, 2024, 2025, 2026)
# City of London (every year), Northamptonshire (to 2021), North Northamptonshire (from 2022), Cumberland
# (from 2024)
LAS = ["201", "928", "940", "942"]


@pytest.fixture(scope="module")
def census(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("years")
    generate_census(out, YEARS, scale=0.02, seed=3, las=LAS, workers=1)
    return out


def _read(census: Path, year: int) -> dict[str, pl.DataFrame]:
    return read_returns(sorted((census / str(year)).glob("*.xml")), year=year, workers=1)


@pytest.mark.parametrize("year", YEARS)
def test_each_year_reads_and_validates_without_errors(census: Path, year: int) -> None:
    tables = _read(census, year)
    files = {p.stem for p in (census / str(year)).glob("*.xml")}
    expected = {"201", "928"} if year == 2021 else {"201", "940"} | ({"942"} if year >= 2024 else set())
    assert files == expected  # each year's LAs
    report = validate(tables, year)
    errors = report.filter(pl.col("type") == "error")
    assert errors.is_empty(), errors.select("la_code", "rule", "value", "message")
    assert tables["issues"].is_empty()
    headers, children = tables["headers"], tables["children"]
    assert headers["has_content_block"].to_list() == [year <= 2021] * headers.height  # Content to 2020-21
    assert (tables["cin_plans"].height > 0) == (year >= 2022)  # CIN plans from 2021-22
    sex = children["Sex"].drop_nulls()
    gender = children["GenderCurrent"].drop_nulls()
    if year >= 2025:  # Sex replaces GenderCurrent from 2024-25
        assert gender.is_empty() and set(sex) <= {"M", "F", "U"} and sex.len() == children.height
    else:
        assert sex.is_empty() and gender.len() == children.height
    factors = set(tables["assessment_factors"]["AssessmentFactors"])
    # never before their year; whether they appear in a year follows the LAs' published counts (the
    # generator draws each LA's published C3 figures: Northamptonshire 2021 recorded 18A, not 18B/18C)
    assert not ({"18B", "18C", "19B", "19C"} & factors) or year >= 2021
    assert "24A" not in factors or year >= 2022
    if year >= 2023:  # these LAs' published counts of them are then large enough to survive scaling
        assert "24A" in factors and {"18B", "18C", "19B", "19C"} & factors


def test_later_codes_appear_from_their_year(census: Path) -> None:
    reasons = {y: set(_read(census, y)["episodes"]["ReasonForClosure"].drop_nulls()) for y in (2022, 2023)}
    assert "RC9" not in reasons[2022] and "RC9" in reasons[2023]
    sources = {y: set(_read(census, y)["episodes"]["ReferralSource"]) for y in (2022, 2024)}
    assert "5D" not in sources[2022] and "5D" in sources[2024]


def test_elements_outside_their_year_are_reported(census: Path) -> None:
    # a 2025 return (Sex, CIN plans) validated as 2021-22: Sex is reported, and its missing GenderCurrent
    path = census / "2025" / "940.xml"
    as_2022 = validate(read_return(path), 2022)
    wrong = as_2022.filter(pl.col("rule") == "element_not_in_year")
    assert wrong["fields"].to_list() == ["Sex"] and wrong["type"].to_list() == ["error"]
    assert "belongs to the census from 2024-25" in wrong["message"].item()
    assert not as_2022.filter(pl.col("rule") == "4180").is_empty()
    # ... and as 2020-21: its CIN plans too
    as_2021 = validate(read_return(path), 2021)
    assert set(as_2021.filter(pl.col("rule") == "element_not_in_year")["fields"]) == {"Sex", "CINPlanDates"}
    # a 2021 return (GenderCurrent, Content) validated as 2024-25
    as_2025 = validate(read_return(census / "2021" / "201.xml"), 2025)
    wrong = as_2025.filter(pl.col("rule") == "element_not_in_year")
    assert dict(zip(wrong["fields"], wrong["type"], strict=True)) == {
        "GenderCurrent": "error",
        "Content": "query",
    }


def test_a_later_collections_element_is_never_skipped_silently(census: Path, tmp_path: Path) -> None:
    text = (census / "2026" / "940.xml").read_text()
    pre = "<PreProceedingsandFGDM><PPStartDate>2026-01-05</PPStartDate></PreProceedingsandFGDM>"
    path = tmp_path / "940.xml"
    path.write_text(text.replace("</CINdetails>", pre + "</CINdetails>", 1))
    report = validate(read_return(path, 2026), 2026)
    found = report.filter(pl.col("rule") == "element_not_in_year")
    assert found["fields"].to_list() == ["PreProceedingsandFGDM"] and found["type"].to_list() == ["error"]
    assert "2026-27" in found["message"].item()


def _fault(census: Path, tmp_path: Path, year: int, old: str, new: str, count: int = 1) -> pl.DataFrame:
    """Validate LA 940's return of ``year`` with ``old`` replaced by ``new``."""
    text = (census / str(year) / "940.xml").read_text()
    assert old in text
    path = tmp_path / "940.xml"
    path.write_text(text.replace(old, new, count))
    return validate(read_return(path, year), year)


def test_later_rules_fire_from_their_year_only(census: Path, tmp_path: Path) -> None:
    # 1580 (2024-25): a non-alphanumeric LAchildID
    text = (census / "2025" / "940.xml").read_text()
    child_id = text.split("<LAchildID>")[1].split("<")[0]
    bad_id = ("<LAchildID>" + child_id, "<LAchildID>" + child_id[:-1] + "-")
    assert "1580" in set(_fault(census, tmp_path, 2025, *bad_id, count=-1)["rule"])
    text_2024 = (census / "2024" / "940.xml").read_text()
    child_2024 = text_2024.split("<LAchildID>")[1].split("<")[0]
    bad_2024 = ("<LAchildID>" + child_2024, "<LAchildID>" + child_2024[:-1] + "-")
    assert "1580" not in set(_fault(census, tmp_path, 2024, *bad_2024, count=-1)["rule"])
    # 8945Q (2024-25): the undivided physical abuse code
    split = ("<AssessmentFactors>18C</AssessmentFactors>", "<AssessmentFactors>18A</AssessmentFactors>")
    assert "8945Q" in set(_fault(census, tmp_path, 2025, *split)["rule"])
    assert "8945Q" not in set(_fault(census, tmp_path, 2024, *split)["rule"])
    # 4012Q (2021-22): a CIN plan ending on its start date
    text_2022 = (census / "2022" / "940.xml").read_text()
    block = text_2022[text_2022.index("<CINPlanDates>") : text_2022.index("</CINPlanDates>")]
    start = block.split("<CINPlanStartDate>")[1][:10]
    same_day = (
        block,
        f"<CINPlanDates><CINPlanStartDate>{start}</CINPlanStartDate><CINPlanEndDate>{start}</CINPlanEndDate>",
    )
    report = _fault(census, tmp_path, 2022, *same_day)
    assert "4012Q" in set(report["rule"])


def test_rule_sets_are_overlays_on_the_year_before() -> None:
    sizes = {y: len(ruleset(y).rules) for y in range(2013, 2027)}
    assert sizes[2013] == sizes[2021] and sizes[2022] == sizes[2021] + 14 and sizes[2025] == sizes[2024] + 4
    assert sizes[2026] == sizes[2025]
    assert ruleset(2025).name == "cin2024_25" and ruleset(2020).name == "cin2019_20"
    assert "4000" not in ruleset(2021).codes and "4000" in ruleset(2022).codes
    by_code = {r.code: r for r in ruleset(2025).rules}
    assert by_code["4180"].fields == ("Sex",) and {r.code: r for r in ruleset(2024).rules}["4180"].fields == (
        "GenderCurrent",
    )
    assert [y for y, _ in ruleset(2026).changes] == sorted(
        y for o in OVERLAYS for y in [o.year] * len(o.lines())
    )
    with pytest.raises(ValueError, match="2027"):
        ruleset(2027)
